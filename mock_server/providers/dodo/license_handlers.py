"""Dodo's license operations, by the operationIds of contracts/dodo/openapi.json: the merchant's
(`/license_keys`, `/license_key_instances`, API key) and the public ones (`/licenses/*`, none; the
provider's authentication finds their namespace). Rules in license_keys.py and licenses.py."""
from __future__ import annotations

from ...core.request import Request
from ..base import handler
from .license_keys import LicenseKeys
from .licenses import Licenses


class LicenseHandlers:
    def __init__(self, keys: LicenseKeys, licenses: Licenses):
        self.keys = keys
        self.licenses = licenses

    @handler("list_license_keys_handler")
    def list_keys(self, req: Request):
        return self.keys.list(req.ns, req.query)

    @handler("get_license_key_handler")
    def get_key(self, req: Request):
        return self.keys.get(req.ns, req.path["id"])

    @handler("update_license_key")
    def update_key(self, req: Request):
        return self.keys.update(req.ns, req.path["id"], req.body)

    @handler("create_license_key")
    def create_key(self, req: Request):
        return self.keys.create(req.ns, req.body)

    @handler("list_license_key_instances")
    def list_instances(self, req: Request):
        return self.keys.list_instances(req.ns, req.query)

    @handler("get_license_key_instance")
    def get_instance(self, req: Request):
        return self.keys.get_instance(req.ns, req.path["id"])

    @handler("update_license_key_instance")
    def update_instance(self, req: Request):
        return self.keys.rename_instance(req.ns, req.path["id"], req.body)

    @handler("activate_license_key")
    def activate(self, req: Request):
        return self.licenses.activate(req.ns, req.body)

    @handler("validate_license_key")
    def validate(self, req: Request):
        return self.licenses.validate(req.ns, req.body)

    @handler("deactivate_license_key")
    def deactivate(self, req: Request):
        return self.licenses.deactivate(req.ns, req.body)
