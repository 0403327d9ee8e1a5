"""Constants shared by the integration's modules."""

from typing import Final

from homeassistant.const import Platform

DOMAIN: Final = "bambu_printer"

CONF_SERIAL: Final = "serial"
CONF_ACCESS_CODE: Final = "access_code"
CONF_CONNECTION: Final = "connection"
CONF_MODEL: Final = "model"
CONF_CAMERA_PORT: Final = "camera_port"
CONF_FTPS_PORT: Final = "ftps_port"
SECTION_ADVANCED: Final = "advanced"

CONNECTION_LOCAL: Final = "local"
CONNECTION_CLOUD: Final = "cloud"

# Entries added through a Bambu account also keep the account's sign-in (never the password):
# the token (about 90 days; CONF_TOKEN), when it expires, the numeric user id, the region and
# the email (CONF_EMAIL, to pre-fill re-authentication).
CONF_TOKEN_EXPIRES_AT: Final = "token_expires_at"  # noqa: S105  (a key name)
CONF_UID: Final = "uid"
CONF_REGION: Final = "region"

OPTION_READ_ONLY: Final = "read_only"
OPTION_CAMERA: Final = "camera"
DEFAULT_READ_ONLY: Final = False
DEFAULT_CAMERA: Final = True

MQTT_PORT: Final = 8883
# Longest a user waits on the config flow while we try the printer.
VALIDATE_TIMEOUT: Final = 10.0
# Longest a button press waits for the printer's answer.
COMMAND_TIMEOUT: Final = 10.0

# Entities that act on the printer; read-only mode creates none of them.
CONTROL_KEYS: Final = frozenset(
    {
        "pause",
        "resume",
        "stop",
        "chamber_light",
        "nozzle_heater",
        "right_nozzle_heater",
        "left_nozzle_heater",
        "bed_heater",
        "chamber_heater",
        "part_cooling_fan_control",
        "aux_fan_control",
        "chamber_fan_control",
        "speed_profile_control",
        "airduct_mode",
    }
)

PLATFORMS: Final = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.CAMERA,
    Platform.EVENT,
    Platform.FAN,
    Platform.IMAGE,
    Platform.LIGHT,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.UPDATE,
]
