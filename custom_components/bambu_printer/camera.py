"""The chamber camera: P1/A1 JPEG stream on demand, X1/X1E/P2S/H2 RTSPS handed to HA's stream.

P1 and A1 printers stream JPEG frames over TLS (port 6000). The entity owns a `CameraStream`
that connects only while someone watches (an MJPEG viewer) or asks for a still, and closes the
connection 30 s after the last one, so an idle dashboard costs the printer and Home Assistant
nothing. A camera that refuses the access code is reported unavailable (with one logged error);
it never starts a re-authentication, which only the MQTT connection does.

X1, X1E, P2S and H2 printers offer RTSPS (port 322): the entity gives Home Assistant's stream
component the address and lets it decode stills too (`use_stream_for_stills`), so no ffmpeg
requirement is added. While such a printer reports "LAN liveview" switched off the camera is
unavailable and a repair issue tells the user where to switch it on.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Final

from aiohttp import web
from homeassistant.components.camera import Camera, CameraEntityFeature
from homeassistant.const import CONF_HOST, EVENT_HOMEASSISTANT_STOP
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.event import async_call_later

from .connection import async_printer_ssl_context
from .const import CONF_ACCESS_CODE, CONF_CAMERA_PORT, DEFAULT_CAMERA, DOMAIN, OPTION_CAMERA
from .coordinator import BambuCoordinator
from .data import BambuConfigEntry
from .entity import BambuEntity
from .printer.camera import (
    CAMERA_PORT,
    RTSPS_PORT,
    CameraStream,
    JpegCameraClient,
    rtsps_url,
)
from .printer.errors import AuthError, BambuError, TlsError
from .printer.models import CameraKind
from .printer.state import PrinterState, View

_LOGGER = logging.getLogger(__name__)

# Nothing here polls or sends commands; the stream's own concurrency is in CameraStream.
PARALLEL_UPDATES = 0

CAMERA_KEY: Final = "camera"

IDLE_TIMEOUT: Final = 30.0
"""Seconds after the last viewer or still request until the camera connection closes."""
STILL_MAX_AGE: Final = 2.0
"""A still is at most this old; an older cached frame means waiting for a fresh one."""
STILL_TIMEOUT: Final = 5.0
"""Longest a still request waits, including opening the connection."""
MJPEG_FRAME_WAIT: Final = 25.0
"""Longest an MJPEG viewer waits for the next frame (connect and first frame take up to 20 s)."""
REFUSED_RETRY_AFTER: Final = 300.0
"""After a refusal the camera shows unavailable this long, then lets viewers try again.

A P1 also closes connections before the first frame when too many clients watch it at once,
which looks exactly like a wrong access code, so a refusal must not be permanent.
"""

_BOUNDARY: Final = "frameboundary"
_MJPEG_CONTENT_TYPE: Final = f"multipart/x-mixed-replace; boundary={_BOUNDARY}"


def liveview_issue_id(serial: str) -> str:
    """Return the repair issue id for a printer whose LAN liveview is switched off."""
    return f"lan_liveview_disabled_{serial}"


def _is_refusal(err: BambuError | None) -> bool:
    """Return whether an error means the camera will not let us in (code or certificate)."""
    return isinstance(err, (AuthError, TlsError))


def _mjpeg_part(frame: bytes) -> bytes:
    """Wrap one JPEG frame as a part of a multipart/x-mixed-replace response."""
    head = (
        f"--{_BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(frame)}\r\n\r\n"
    ).encode()
    return head + frame + b"\r\n"


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BambuConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the camera when the printer has one, the option allows it and LAN is known."""
    coordinator = entry.runtime_data.coordinator
    kind = coordinator.model.camera
    wanted = bool(entry.options.get(OPTION_CAMERA, DEFAULT_CAMERA))
    # The camera is reached over the LAN only: an entry without an address gets no camera.
    reachable = bool(entry.data.get(CONF_HOST)) and bool(entry.data.get(CONF_ACCESS_CODE))
    if not wanted or not reachable or kind is CameraKind.NONE:
        _async_forget_camera(hass, coordinator)
        return
    if kind is CameraKind.JPEG:
        async_add_entities([BambuJpegCamera(coordinator)])
    else:
        async_add_entities([BambuRtspsCamera(coordinator)])


@callback
def _async_forget_camera(hass: HomeAssistant, coordinator: BambuCoordinator) -> None:
    """Remove a camera the user switched off, so it does not linger as unavailable."""
    registry = er.async_get(hass)
    unique_id = f"{coordinator.serial}_{CAMERA_KEY}"
    if entity_id := registry.async_get_entity_id("camera", DOMAIN, unique_id):
        registry.async_remove(entity_id)
    ir.async_delete_issue(hass, DOMAIN, liveview_issue_id(coordinator.serial))


class BambuCameraBase(BambuEntity, Camera):
    """What both camera kinds share: identity, name, the entry's address and access code."""

    _attr_translation_key = CAMERA_KEY

    def __init__(self, coordinator: BambuCoordinator, views: tuple[View[Any], ...]) -> None:
        BambuEntity.__init__(self, coordinator, CAMERA_KEY, views)
        # CoordinatorEntity's __init__ does not chain to Camera's: call it explicitly.
        Camera.__init__(self)
        data = coordinator.config_entry.data
        self._host: str = data[CONF_HOST]
        self._access_code: str = data[CONF_ACCESS_CODE]
        self._port_override: int | None = data.get(CONF_CAMERA_PORT)

    def _printer_name(self) -> str:
        return self.coordinator.config_entry.title


class BambuJpegCamera(BambuCameraBase):
    """A P1/A1 chamber camera: JPEG frames over TLS, connected only while wanted."""

    def __init__(self, coordinator: BambuCoordinator) -> None:
        # Reports never change what it shows: its stream's events do.
        super().__init__(coordinator, ())
        self._stream: CameraStream | None = None
        self._unsubscribe_stream: CALLBACK_TYPE | None = None
        self._refused: BambuError | None = None
        self._refusal_logged = False
        self._cancel_retry: CALLBACK_TYPE | None = None

    @property
    def available(self) -> bool:
        """Return False while the printer is offline or the camera refuses us."""
        return super().available and self._refused is None

    def _shown_values(self) -> tuple[Any, ...]:
        return (self.available, self.is_streaming)

    async def async_added_to_hass(self) -> None:
        """Prepare the stream (it connects only when someone looks)."""
        client = JpegCameraClient(
            self._host,
            self.coordinator.serial,
            self._access_code,
            await async_printer_ssl_context(self.hass),
            self._port_override or CAMERA_PORT,
        )
        self._stream = CameraStream(client, idle_timeout=IDLE_TIMEOUT)
        self._unsubscribe_stream = self._stream.add_listener(self._handle_stream_change)
        self.async_on_remove(
            self.hass.bus.async_listen(EVENT_HOMEASSISTANT_STOP, self._async_close_on_stop)
        )
        await super().async_added_to_hass()

    async def _async_close_on_stop(self, _event: Event) -> None:
        """Close the stream when Home Assistant stops, which ends every viewer's response.

        Home Assistant does not remove entities on stop, and its web server waits up to 10 s
        for open responses before cutting them off: an MJPEG response only ends when its
        stream does.
        """
        if self._stream is not None:
            await self._stream.close()

    async def async_will_remove_from_hass(self) -> None:
        """Close the stream and forget any pending retry."""
        await super().async_will_remove_from_hass()
        self._cancel_refusal_retry()
        if self._unsubscribe_stream is not None:
            self._unsubscribe_stream()
            self._unsubscribe_stream = None
        stream, self._stream = self._stream, None
        if stream is not None:
            await stream.close()

    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes | None:
        """Return a frame at most 2 s old, opening the stream for it if needed (5 s at most)."""
        stream = self._stream
        if stream is None or stream.closed:
            return None
        try:
            return await stream.latest_frame(max_age=STILL_MAX_AGE, timeout=STILL_TIMEOUT)
        except BambuError as err:
            self._handle_stream_error(err)
            raise self._image_error(err) from err

    async def handle_async_mjpeg_stream(self, request: web.Request) -> web.StreamResponse | None:
        """Serve every frame the printer sends as MJPEG while the viewer stays connected."""
        stream = self._stream
        if stream is None or stream.closed:
            return None
        stream.acquire()  # held for the whole response: the idle countdown waits for it
        try:
            try:
                first = await stream.latest_frame(max_age=STILL_MAX_AGE, timeout=STILL_TIMEOUT)
            except BambuError as err:
                self._handle_stream_error(err)
                _LOGGER.debug("Camera of %s has no image for a viewer: %s", self.entity_id, err)
                return None
            latest = stream.latest
            sequence = latest.sequence if latest is not None else 0
            response = web.StreamResponse()
            response.content_type = _MJPEG_CONTENT_TYPE
            await response.prepare(request)
            # Browsers show the frame before the newest one: send the first twice.
            await response.write(_mjpeg_part(first) * 2)
            while True:
                try:
                    frame = await stream.next_frame(sequence, timeout=MJPEG_FRAME_WAIT)
                except BambuError as err:
                    self._handle_stream_error(err)
                    _LOGGER.debug("Camera stream of %s ended: %s", self.entity_id, err)
                    return response
                # A viewer that left cancels this handler, or makes the write raise
                # ConnectionResetError, which the camera component handles.
                sequence = frame.sequence
                await response.write(_mjpeg_part(frame.data))
        finally:
            stream.release()

    @callback
    def _handle_stream_change(self) -> None:
        """Follow the stream: connected means streaming (and no refusal), errors may refuse."""
        stream = self._stream
        if stream is None:
            return
        self._attr_is_streaming = stream.connected
        if stream.connected:
            self._clear_refusal()
        elif stream.last_error is not None:
            self._handle_stream_error(stream.last_error)
        self._handle_coordinator_update()

    @callback
    def _handle_stream_error(self, err: BambuError) -> None:
        """Turn a refused access code or failed TLS check into an unavailable camera."""
        if not _is_refusal(err):
            return  # unreachable or a broken frame: the stream retries by itself
        self._refused = err
        if self._refusal_logged:
            _LOGGER.debug("The camera of %s refused again: %s", self._printer_name(), err)
        else:
            self._refusal_logged = True  # once until the camera works again
            if isinstance(err, AuthError):
                _LOGGER.error(
                    "The camera of %s refused the access code (it closed the connection "
                    "before sending an image); the camera is unavailable. If the printer "
                    "works otherwise, too many apps may be watching the camera at once",
                    self._printer_name(),
                )
            else:
                _LOGGER.error(
                    "The camera of %s failed the certificate check (%s); the camera is unavailable",
                    self._printer_name(),
                    err,
                )
        self._cancel_refusal_retry()
        self._cancel_retry = async_call_later(
            self.hass, REFUSED_RETRY_AFTER, self._async_retry_after_refusal
        )
        self._handle_coordinator_update()

    @callback
    def _async_retry_after_refusal(self, _now: datetime) -> None:
        """Show the camera available again so the next viewer tries once more.

        While the stream is still running and its last attempt was refused too, nothing has
        changed: wait another round.
        """
        self._cancel_retry = None
        stream = self._stream
        if stream is not None and stream.running and _is_refusal(stream.last_error):
            self._cancel_retry = async_call_later(
                self.hass, REFUSED_RETRY_AFTER, self._async_retry_after_refusal
            )
            return
        self._refused = None
        self._handle_coordinator_update()

    @callback
    def _clear_refusal(self) -> None:
        self._cancel_refusal_retry()
        self._refused = None
        self._refusal_logged = False

    @callback
    def _cancel_refusal_retry(self) -> None:
        if self._cancel_retry is not None:
            self._cancel_retry()
            self._cancel_retry = None

    def _image_error(self, err: BambuError) -> HomeAssistantError:
        """Return the translated error a still request fails with."""
        key = "camera_refused" if _is_refusal(err) else "camera_no_image"
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key=key,
            translation_placeholders={"name": self._printer_name()},
        )


class BambuRtspsCamera(BambuCameraBase):
    """An X1/X1E/P2S/H2 camera: Home Assistant's stream component plays the RTSPS feed."""

    _attr_supported_features = CameraEntityFeature.STREAM

    def __init__(self, coordinator: BambuCoordinator) -> None:
        super().__init__(coordinator, (PrinterState.camera,))
        self._issue_raised: bool | None = None  # None: not yet compared with the registry

    @property
    def use_stream_for_stills(self) -> bool:
        """Let the stream component decode stills from the feed (no ffmpeg requirement)."""
        return True

    @property
    def available(self) -> bool:
        """Return False while the printer is offline or has LAN liveview switched off."""
        if not super().available or self._liveview_enabled() is False:
            return False
        stream = self.stream
        return stream is None or stream.available

    def _shown_values(self) -> tuple[Any, ...]:
        return (self.available,)

    def _liveview_enabled(self) -> bool | None:
        """Return whether LAN liveview is on; None while the printer has not said.

        A printer that never reported `ipcam.rtsp_url` is not treated as switched off: the
        model table says it streams RTSPS, so the address is offered.
        """
        return self.coordinator.data.camera.rtsp_enabled

    async def stream_source(self) -> str | None:
        """Return the RTSPS address (it carries the access code: never log it)."""
        if self._liveview_enabled() is False:
            return None
        return rtsps_url(self._host, self._access_code, self._port_override or RTSPS_PORT)

    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes | None:
        """Return None: stills come from the stream component (`use_stream_for_stills`)."""
        return None

    async def async_added_to_hass(self) -> None:
        """Raise or clear the liveview repair issue for the state found at setup."""
        await super().async_added_to_hass()
        self._update_liveview_issue()

    async def async_will_remove_from_hass(self) -> None:
        """Drop the repair issue with the entity (unload, option off, removal)."""
        await super().async_will_remove_from_hass()
        ir.async_delete_issue(self.hass, DOMAIN, liveview_issue_id(self.coordinator.serial))

    @callback
    def _handle_coordinator_update(self) -> None:
        self._update_liveview_issue()
        super()._handle_coordinator_update()

    @callback
    def _update_liveview_issue(self) -> None:
        """Keep the repair issue in step with what the connected printer reports."""
        if not self.coordinator.client.available:
            return  # offline: nothing new is known about the setting
        disabled = self._liveview_enabled() is False
        if disabled == self._issue_raised:
            return
        self._issue_raised = disabled
        issue_id = liveview_issue_id(self.coordinator.serial)
        if disabled:
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                issue_id,
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key="lan_liveview_disabled",
                translation_placeholders={"name": self._printer_name()},
            )
        else:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)
