using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Amphora.EndToEnd.Tests.Harness;

/// <summary>A self-signed certificate for 127.0.0.1, written as PEM files the way an operator would hand them to amphora.</summary>
public static class TestCertificates
{
    public static X509Certificate2 WriteSelfSigned(string dir, string commonName, out string certFile, out string keyFile)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        certFile = Path.Combine(dir, "cert.pem");
        keyFile = Path.Combine(dir, "key.pem");
        File.WriteAllText(certFile, cert.ExportCertificatePem());
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
        return X509CertificateLoader.LoadCertificate(cert.RawData);
    }
}
