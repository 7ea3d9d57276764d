"""chainpass: a verified identity registry and product passports on any EVM chain.

The public API, importable from here::

    from chainpass import Chain, Credential, IdentityRegistry, Level, ProductKey, ProductPassports, deploy

    chain = Chain.embedded()                      # or Chain.connect("http://127.0.0.1:8545")
    governor, bureau, resident, producer = chain.dev_accounts()[:4]
    deployment, _ = deploy(chain, governor)
    registry = IdentityRegistry.from_deployment(chain, deployment)
    passports = ProductPassports.from_deployment(chain, deployment)

Everything chainpass raises derives from :class:`ChainpassError`. ``__version__`` is the
one version of the package and of the contracts it deploys (their ``version()``).
"""

from chainpass.attributes import Credential, Disclosure
from chainpass.chain import Chain
from chainpass.custody import CustodyOffer, SignedOffer
from chainpass.deployment import Deployment, DeploymentStore, deploy, load_deployment
from chainpass.enums import BizStep, Disposition, Level, Role, Sector, Standing, State, Status, SuspensionReason
from chainpass.errors import (
    ChainIdMismatch,
    ChainpassError,
    ConfirmationTimeout,
    ContractRevert,
    DeploymentError,
    DisclosureInvalid,
    InsufficientFunds,
    InvalidInput,
    NodeUnreachable,
    TransactionFailed,
)
from chainpass.finance import Stablecoin, TradeFinance, invoice_commitment
from chainpass.identity import IdentityRegistry
from chainpass.passport import EpcisEvent, ProductPassports, Verdict
from chainpass.signatures import SignedAction, TypedAction
from chainpass.standards.gs1 import DigitalLink, ProductKey

#: The package's version, which the contracts it deploys also return from ``version()``.
__version__ = "0.7.0"

__all__ = [
    "BizStep",
    "Chain",
    "ChainIdMismatch",
    "ChainpassError",
    "ConfirmationTimeout",
    "ContractRevert",
    "Credential",
    "CustodyOffer",
    "Deployment",
    "DeploymentError",
    "DeploymentStore",
    "DigitalLink",
    "Disclosure",
    "DisclosureInvalid",
    "Disposition",
    "EpcisEvent",
    "IdentityRegistry",
    "InsufficientFunds",
    "InvalidInput",
    "Level",
    "NodeUnreachable",
    "ProductKey",
    "ProductPassports",
    "Role",
    "Sector",
    "SignedAction",
    "SignedOffer",
    "Stablecoin",
    "Standing",
    "State",
    "Status",
    "SuspensionReason",
    "TradeFinance",
    "TransactionFailed",
    "TypedAction",
    "Verdict",
    "__version__",
    "deploy",
    "invoice_commitment",
    "load_deployment",
]
