"""Access tokens as every service sees them: claims, offline verification, service credentials."""

from plumbing.auth.claims import AccessClaims, Role, VerificationStatus
from plumbing.auth.verifier import TokenVerifier

__all__ = ["AccessClaims", "Role", "TokenVerifier", "VerificationStatus"]
