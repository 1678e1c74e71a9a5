using System.Security.Cryptography;
using System.Text;

namespace Amphora.Tenancy.Keys;

/// <summary>
/// The 32-byte key that seals access-key secrets at rest with AES-256-GCM. The key file holds 64 hex digits, base64 of 32
/// bytes, or the 32 raw bytes. Thread-safe.
/// </summary>
public sealed class MasterKey : IDisposable
{
    public const int KeySize = 32;
    private const int NonceSize = 12;
    private const int TagSize = 16;

    private readonly byte[] _key;

    public MasterKey(ReadOnlySpan<byte> key)
    {
        if (key.Length != KeySize) throw new ArgumentException($"the master key must be {KeySize} bytes, got {key.Length}");
        _key = key.ToArray();
    }

    /// <summary>Reads the key file; when it is absent and <paramref name="createIfMissing"/>, writes a new random key (mode 0600).</summary>
    public static MasterKey Load(string path, bool createIfMissing)
    {
        if (!File.Exists(path))
        {
            if (!createIfMissing) throw new FileNotFoundException($"the master key file {path} does not exist", path);
            byte[] fresh = RandomNumberGenerator.GetBytes(KeySize);
            AtomicFile.Write(path, Encoding.ASCII.GetBytes(Convert.ToHexStringLower(fresh) + "\n"), ownerOnly: true);
            return new MasterKey(fresh);
        }
        byte[] raw = File.ReadAllBytes(path);
        if (raw.Length == KeySize) return new MasterKey(raw);
        string text = Encoding.ASCII.GetString(raw).Trim();
        if (text.Length == 2 * KeySize && text.All(char.IsAsciiHexDigit)) return new MasterKey(Convert.FromHexString(text));
        try
        {
            byte[] decoded = Convert.FromBase64String(text);
            if (decoded.Length == KeySize) return new MasterKey(decoded);
        }
        catch (FormatException)
        {
        }
        throw new InvalidDataException($"the master key file {path} must hold {KeySize} bytes: 64 hex digits, base64, or raw bytes");
    }

    public string Seal(string secret, string associatedData)
    {
        byte[] plain = Encoding.UTF8.GetBytes(secret);
        byte[] sealedBytes = new byte[NonceSize + TagSize + plain.Length];
        var nonce = sealedBytes.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(nonce, plain, sealedBytes.AsSpan(NonceSize + TagSize), sealedBytes.AsSpan(NonceSize, TagSize), Encoding.UTF8.GetBytes(associatedData));
        CryptographicOperations.ZeroMemory(plain);
        return Convert.ToBase64String(sealedBytes);
    }

    /// <summary>Decrypts a sealed secret; throws <see cref="CryptographicException"/> when the key or data do not match.</summary>
    public byte[] Open(string sealedSecret, string associatedData)
    {
        byte[] sealedBytes = Convert.FromBase64String(sealedSecret);
        if (sealedBytes.Length < NonceSize + TagSize) throw new CryptographicException("sealed secret too short");
        byte[] plain = new byte[sealedBytes.Length - NonceSize - TagSize];
        using var aes = new AesGcm(_key, TagSize);
        aes.Decrypt(sealedBytes.AsSpan(0, NonceSize), sealedBytes.AsSpan(NonceSize + TagSize), sealedBytes.AsSpan(NonceSize, TagSize), plain,
            Encoding.UTF8.GetBytes(associatedData));
        return plain;
    }

    public void Dispose() => CryptographicOperations.ZeroMemory(_key);
}
