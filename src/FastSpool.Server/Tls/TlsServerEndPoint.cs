// RFC 5929 §4 (the tls-server-end-point channel binding type), for SCRAM-SHA-256-PLUS (RFC 5802 §6).
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace FastSpool.Server.Tls;

/// <summary>The tls-server-end-point channel binding data of a server certificate: the hash of its DER encoding with
/// the hash function of the certificate's signature algorithm, SHA-256 where that is MD5 or SHA-1 (RFC 5929 §4.1).
/// A signature algorithm that names no single hash here (RSASSA-PSS, whose hash is in its parameters; EdDSA) gives
/// none, and SCRAM-SHA-256-PLUS is then not offered.</summary>
internal static class TlsServerEndPoint
{
    public static byte[]? Compute(X509Certificate2 certificate)
    {
        HashAlgorithmName? hash = certificate.SignatureAlgorithm.Value switch
        {
            "1.2.840.113549.1.1.4" or "1.2.840.113549.1.1.5" // md5WithRSAEncryption, sha1WithRSAEncryption
                or "1.2.840.10045.4.1" or "1.2.840.10040.4.3" // ecdsa-with-SHA1, dsa-with-sha1
                or "1.2.840.113549.1.1.11" or "1.2.840.10045.4.3.2" or "2.16.840.1.101.3.4.3.2" => HashAlgorithmName.SHA256,
            "1.2.840.113549.1.1.12" or "1.2.840.10045.4.3.3" => HashAlgorithmName.SHA384,
            "1.2.840.113549.1.1.13" or "1.2.840.10045.4.3.4" => HashAlgorithmName.SHA512,
            _ => null,
        };
        if (hash is not { } name)
            return null;
        return name == HashAlgorithmName.SHA384 ? SHA384.HashData(certificate.RawDataMemory.Span)
            : name == HashAlgorithmName.SHA512 ? SHA512.HashData(certificate.RawDataMemory.Span)
            : SHA256.HashData(certificate.RawDataMemory.Span);
    }
}
