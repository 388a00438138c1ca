"""Small methods an SDK reaches besides data: profile, scope, methods, method.get, server.time,
app.info, feature.get, access.name. Cheap, plausible answers in the real shapes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import cost as costs
from .entities import as_list
from .errors import MethodResult
from .params import param
from .values import format_instant

Handler = Callable[[dict[str, Any]], MethodResult]
SCOPES = ["crm", "user", "user_basic", "user_brief", "department", "profile", "placement"]


class AppMethods:
    def __init__(self, now: Callable[[], int], tz: int, methods: Callable[[], list[str]]) -> None:
        self.now = now
        self.tz = tz
        self.methods = methods

    def register(self, table: dict[str, Handler]) -> None:
        cheap = costs.META
        table.update(
            {
                "profile": lambda p: MethodResult(
                    {
                        "ID": "1",
                        "ADMIN": True,
                        "NAME": "Admin",
                        "LAST_NAME": "Portal",
                        "PERSONAL_GENDER": "M",
                        "PERSONAL_PHOTO": "",
                        "TIME_ZONE": "",
                        "TIME_ZONE_OFFSET": self.tz * 60,
                    },
                    cost=cheap,
                ),
                "scope": lambda p: MethodResult(list(SCOPES), cost=cheap),
                "methods": lambda p: MethodResult(self.methods(), cost=cheap),
                "method.get": self.method_get,
                "server.time": lambda p: MethodResult(format_instant(self.now(), self.tz), cost=cheap),
                "app.info": lambda p: MethodResult(
                    {
                        "ID": 1,
                        "CODE": "local.sandbox",
                        "VERSION": 1,
                        "STATUS": "L",
                        "INSTALLED": True,
                        "PAYMENT_EXPIRED": "N",
                        "DAYS": None,
                        "LANGUAGE_ID": "en",
                        "LICENSE": "en_project",
                        "LICENSE_TYPE": "project",
                        "LICENSE_FAMILY": "project",
                    },
                    cost=cheap,
                ),
                "feature.get": lambda p: MethodResult({"value": "Y"}, cost=cheap),
                "access.name": self.access_name,
            }
        )

    def method_get(self, params: dict[str, Any]) -> MethodResult:
        name = str(param(params, "name") or "").lower()
        known = name in self.methods()
        return MethodResult({"isExisting": known, "isAvailable": known}, cost=costs.META)

    def access_name(self, params: dict[str, Any]) -> MethodResult:
        """Access codes to names: U1 user, D1 department, G2 group, AU all authorised."""
        out: dict[str, Any] = {}
        for code in (str(c) for c in as_list(param(params, "ACCESS"))):
            if code.startswith("U"):
                out[code] = {"provider": "Users", "name": f"User {code[1:]}", "provider_id": "user"}
            elif code.startswith(("D", "DR")):
                out[code] = {
                    "provider": "Departments",
                    "name": f"Department {code.lstrip('DR')}",
                    "provider_id": "intranet",
                }
            elif code == "AU":
                out[code] = {"provider": "", "name": "All authorized users", "provider_id": "other"}
            else:
                out[code] = {"provider": "Groups", "name": f"Group {code}", "provider_id": "group"}
        return MethodResult(out, cost=costs.META)
