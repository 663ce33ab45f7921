"""The checkpoint side of permits: verify a permit QR code offline, from signed lists.

Modules, from the wire inwards:

    text         "MP1:" + Base45 (RFC 9285)
    cose         COSE_Sign1 (RFC 9052) with ES256, and the strict CBOR reader
    keys         kid = SHA-256(SubjectPublicKeyInfo DER)[:8], key loading, JWK export
    codec        the permit claims (CBOR map), packed Georgian names, packed plates
    controlcode  the 9-character control code with its check character
    lists        the root-signed trust list and revocation list
    verify       `Verifier`: the ordered checks and one `Status`
    model        the typed values shared with the issuing service
    errors       VerifierError > MalformedError, BadSignatureError, ListError

The wire format is described in docs/format.md; tests/vectors/ holds golden test vectors.
"""

FORMAT_VERSION = 1
