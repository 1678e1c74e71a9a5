using System.Security.Cryptography.X509Certificates;

namespace Amphora.Cluster.Security;

/// <summary>Checks a peer's certificate against one CA (or a self-signed certificate) instead of the system's trust store.</summary>
public static class CertificateTrust
{
    /// <summary>Whether <paramref name="certificate"/> chains to <paramref name="authority"/> (validity dates checked, no
    /// revocation lookup: a cluster CA has no online revocation service).</summary>
    public static bool ChainsTo(X509Certificate certificate, X509Certificate2 authority)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = new X509Certificate2(certificate);
        return chain.Build(leaf);
    }

    /// <summary>The first certificate of a PEM file (a CA bundle's first entry).</summary>
    public static X509Certificate2 LoadAuthority(string pemFile) => X509CertificateLoader.LoadCertificateFromFile(pemFile);

    /// <summary>A certificate with its private key from two PEM files, usable as a TLS client or server certificate.</summary>
    public static X509Certificate2 LoadWithKey(string certFile, string keyFile)
    {
        using var pem = X509Certificate2.CreateFromPemFile(certFile, keyFile);
        // Re-imported so the key is usable by SslStream on every platform (an ephemeral PEM key is not on some).
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }
}
