"""The `info.get_version` reply: the firmware module list, in the style of each model's captures.

X1/H2 firmware sends every module with the same keys; P1/A1 firmware has two styles, the older
one (`legacy`) naming the model by `project_name` instead of `product_name`.
"""

import zlib

from .noise import mix
from .profiles import ModelProfile
from .reports import JsonDict


def version_report(
    profile: ModelProfile,
    *,
    serial: str,
    seed: int,
    ams_units: int,
    legacy: bool,
    sequence_id: str,
) -> JsonDict:
    """Return the `info.get_version` reply with this model's firmware module list."""
    if profile.family in ("x1", "h2d"):
        modules = _x1_modules(profile, serial, seed, ams_units, legacy=legacy)
        return {"info": {"command": "get_version", "module": modules, "sequence_id": sequence_id}}
    modules = _p1_modules(profile, serial, seed, ams_units, legacy=legacy)
    return {
        "info": {
            "command": "get_version",
            "sequence_id": sequence_id,
            "module": modules,
            "result": "success",
            "reason": "",
        }
    }


def _module_sn(seed: int, name: str) -> str:
    return f"{mix(seed, zlib.crc32(name.encode())):016X}"[:15]


def _p1_modules(
    profile: ModelProfile, serial: str, seed: int, ams_units: int, *, legacy: bool
) -> list[JsonDict]:
    p1_project = "P1" if profile.family == "p1" else profile.project_name
    modules: list[JsonDict] = []
    ota: JsonDict = {"name": "ota"}
    if legacy:
        ota |= {"project_name": profile.project_name, "sw_ver": profile.ota_version}
        ota |= {"hw_ver": "OTA", "sn": serial, "flag": 3}
    else:
        ota |= {"sw_ver": profile.ota_version, "hw_ver": "OTA", "loader_ver": "00.00.00.00"}
        ota |= {"sn": serial, "product_name": profile.product_name}
        ota |= {"visible": True, "flag": 3}
    modules.append(ota)
    for name, hw, sw, loader in profile.modules:
        if legacy:
            project = profile.project_name if name == "esp32" else p1_project
            module: JsonDict = {"name": name, "project_name": project, "sw_ver": sw}
            if name != "esp32":
                module["loader_ver"] = loader
            module |= {"hw_ver": hw, "sn": _module_sn(seed, name), "flag": 0}
        else:
            module = {"name": name, "sw_ver": sw, "hw_ver": hw, "loader_ver": loader}
            module |= {"sn": _module_sn(seed, name), "product_name": ""}
            module |= {"visible": False, "flag": 0}
        modules.append(module)
    for index in range(ams_units):
        name = f"{profile.ams_module}/{profile.ams_first_id + index}"
        sn = f"{serial}-AMS{index}"
        if legacy:
            module = {"name": name, "project_name": "", "sw_ver": profile.ams_sw}
            module |= {"loader_ver": "00.00.00.00", "ota_ver": "00.00.00.00"}
            module |= {"hw_ver": profile.ams_hw, "sn": sn, "flag": 0}
        else:
            module = {"name": name, "sw_ver": profile.ams_sw, "hw_ver": profile.ams_hw}
            module |= {"loader_ver": "00.00.00.00", "sn": sn}
            module |= {"product_name": f"{profile.ams_product} ({index + 1})"}
            module |= {"visible": True, "flag": 0}
        modules.append(module)
    return modules


def _x1_module(  # noqa: PLR0917  (the module record's own fields)
    name: str, hw: str, sw: str, loader: str, product: str, sn: str, *, visible: bool
) -> JsonDict:
    return {
        "flag": 3 if name == "ota" else 0,
        "hw_ver": hw,
        "loader_ver": loader,
        "name": name,
        "product_name": product,
        "sn": sn,
        "sw_ver": sw,
        "visible": visible,
    }


def _x1_modules(
    profile: ModelProfile, serial: str, seed: int, ams_units: int, *, legacy: bool
) -> list[JsonDict]:
    ota = _x1_module(
        "ota", "N/A", profile.ota_version, "00.00.00.00", profile.product_name, serial, visible=True
    )
    if legacy:
        del ota["product_name"]
    modules = [ota]
    modules.extend(
        _x1_module(
            f"{profile.ams_module}/{profile.ams_first_id + index}",
            profile.ams_hw,
            profile.ams_sw,
            "00.00.00.00",
            f"{profile.ams_product} ({index + 1})",
            f"{serial}-AMS{index}",
            visible=True,
        )
        for index in range(ams_units)
    )
    for name, hw, sw, loader in profile.modules:
        # Older X1 Carbon firmware called its application processor module `rv1126`.
        real_name = "rv1126" if legacy and profile.code == "X1C" and name == "ap" else name
        modules.append(
            _x1_module(real_name, hw, sw, loader, "", _module_sn(seed, name), visible=False)
        )
    return modules
