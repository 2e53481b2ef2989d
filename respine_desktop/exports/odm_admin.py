"""The ODM file's AdminData: users (staff, each kiosk's patient self-entry account, the system)
and locations (sites, with the metadata version in use since their first data)."""

from __future__ import annotations

from dataclasses import dataclass, field

from respine_desktop.exports.odm_signatures import OdmSignatures
from respine_desktop.exports.odm_xml import Xml as _Xml
from respine_desktop.exports.odm_xml import oid
from respine_desktop.storage import Staff
from respine_desktop.storage.export_reads import DeviceRow, SiteRow
from respine_desktop.study import Study

SOURCE_SYSTEM = "RESPINE Desktop"
SYSTEM_USER = "USR.SYSTEM"


def user_oid(staff_id: str | None, device_id: str) -> str:
    """The user an entry is attributed to: the staff member, else the device's kiosk account."""
    return f"USR.{staff_id}" if staff_id else f"USR.KIOSK.{device_id}"


@dataclass(frozen=True)
class Admin:
    staff: list[Staff]
    unknown_staff: list[str]
    devices: list[DeviceRow]
    unknown_devices: list[str]
    sites: list[SiteRow]
    signatures: OdmSignatures = field(default_factory=OdmSignatures)


def write_admin(x: _Xml, study: Study, mdv: str, admin: Admin) -> None:
    with x.element("AdminData", {"StudyOID": study.oid}):
        for s in admin.staff:
            kind = "Investigator" if s.role == "investigator" else "Other"
            with x.element("User", {"OID": f"USR.{s.id}", "UserType": kind}):
                x.leaf("LoginName", None, s.username)
                x.leaf("DisplayName", None, f"{s.username} ({s.role})")
        for staff_id in admin.unknown_staff:
            with x.element("User", {"OID": f"USR.{staff_id}", "UserType": "Other"}):
                x.leaf("DisplayName", None, f"staff {staff_id} (account not in this database)")
        for d in admin.devices:
            with x.element("User", {"OID": f"USR.KIOSK.{d.id}", "UserType": "Other"}):
                x.leaf("LoginName", None, f"kiosk-{d.id}")
                x.leaf("DisplayName", None, f"ePRO kiosk {d.label} (patient self-entry)")
                if d.site_code:
                    x.leaf("LocationRef", {"LocationOID": oid("LOC", d.site_code)})
        for device_id in admin.unknown_devices:
            with x.element("User", {"OID": f"USR.KIOSK.{device_id}", "UserType": "Other"}):
                x.leaf("DisplayName", None, f"ePRO kiosk {device_id} (patient self-entry)")
        with x.element("User", {"OID": SYSTEM_USER, "UserType": "Other"}):
            x.leaf("DisplayName", None, f"{SOURCE_SYSTEM} (automatic scoring)")
        for site in admin.sites:
            attrs = {
                "OID": oid("LOC", site.code),
                "Name": f"Site {site.code}",
                "LocationType": "Site",
            }
            with x.element("Location", attrs):
                x.leaf(
                    "MetaDataVersionRef",
                    {
                        "StudyOID": study.oid,
                        "MetaDataVersionOID": mdv,
                        # the day this metadata has been in use at the site: its first data
                        # (a hub learns of a site at an import, long after its first data)
                        "EffectiveDate": min(
                            site.created_at, site.first_data_at or site.created_at
                        )[:10],
                    },
                )
        x.write(admin.signatures.signature_defs())
