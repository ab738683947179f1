"""Microsoft's hosts and identifiers, in one place: Entra ID authorities, the Azure DevOps
token service, the Azure DevOps resource and the public clients we sign in with."""

from __future__ import annotations

# The Entra ID resource of Azure DevOps; `.default` asks for every permission granted to it.
ADO_RESOURCE = "499b84ac-1321-427f-aa17-267ca6975798"
ADO_SCOPE = ADO_RESOURCE + "/.default"

PUBLIC_AUTHORITY_HOST = "https://login.microsoftonline.com"
# Entra ID authority hosts of the public and sovereign clouds: instance discovery works there,
# and a feed's 401 may name them as its sign-in authority.
ENTRA_HOSTS = frozenset(
    {
        "login.microsoftonline.com",
        "login.microsoft.com",
        "login.windows.net",
        "sts.windows.net",
        "login.microsoftonline.us",
        "login.usgovcloudapi.net",
        "login.chinacloudapi.cn",
        "login.partner.microsoftonline.cn",
        "login.microsoftonline.de",
    }
)

# The Azure Artifacts credential provider's public client: user sign-in uses it by default.
DEFAULT_PUBLIC_CLIENT_ID = "d5a56ea4-7369-46b8-a538-c370805301bf"

# Tenants a feed's challenge may name that are not a real sign-in tenant.
MSA_TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"  # organizations backed by Microsoft accounts
FIRST_PARTY_TENANT = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
# An organization backed by personal Microsoft accounts names the all-zero tenant in its
# challenge; there is no such tenant to sign in at, so sign-in goes to `organizations` (Git
# Credential Manager's AzureReposHostProvider and the Azure Pipelines agent do the same).
NULL_TENANT = "00000000-0000-0000-0000-000000000000"
PERSONAL_ACCOUNTS_AUTHORITY = "organizations"

# Self-describing session tokens live 24 hours at most (artifacts-credprovider README,
# `ARTIFACTS_CREDENTIALPROVIDER_SESSIONTIMEMINUTES`).
SESSION_TOKEN_MAX_LIFETIME = 24 * 3600

# The Azure DevOps token service (session tokens, PATs), matched exactly or on a dot boundary.
VSSPS_HOSTS = frozenset({"vssps.dev.azure.com", "vssps.codedev.ms"})
VSSPS_SUFFIXES = (
    "vssps.dev.azure.com",
    "vssps.visualstudio.com",
    "vssps.codedev.ms",
    "vssps.codeapp.ms",
    "vssps.vsts.me",
)
