"""The moto AWS emulator's server, with one change for natcost's tests: moto stamps every NAT
gateway's CreateTime with "now", after any collection window; NATCOST_MOTO_NAT_CREATE_TIME
(ISO 8601, UTC) backdates them so they exist for the whole window, as in a real account.

    python moto_server.py -H 127.0.0.1 -p PORT
"""
import os
import sys
from datetime import datetime

from moto.ec2.models import nat_gateways

created = os.environ.get("NATCOST_MOTO_NAT_CREATE_TIME")
if created:
    _init = nat_gateways.NatGateway.__init__

    def _backdated(self, *args, **kwargs):
        _init(self, *args, **kwargs)
        self._created_at = datetime.fromisoformat(created)

    nat_gateways.NatGateway.__init__ = _backdated

from moto.server import main  # noqa: E402

main(sys.argv[1:])
