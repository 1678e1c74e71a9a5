namespace Amphora.Tenancy.Auth;

/// <summary>What reading a SigV4-signed body came to.</summary>
public enum SignedBodyRead
{
    Read,
    /// <summary>Longer than the endpoint's limit.</summary>
    TooLarge,
    /// <summary>The bytes held for signatures not yet checked, over every request, reached the budget.</summary>
    Busy,
}

/// <summary>
/// Bounds the memory held by SigV4 bodies whose signature is not checked yet, over all requests at once: anyone who knows
/// (or guesses) a key id can make the server read a body up to the endpoint's limit before the signature can fail, so
/// without a shared bound N such requests hold N times that limit. Thread-safe, lock-free.
/// </summary>
public sealed class UnverifiedBodyBudget(long maxBytes)
{
    private long _used;

    public long MaxBytes { get; } = maxBytes;

    public long Used => Interlocked.Read(ref _used);

    public bool TryReserve(long bytes)
    {
        while (true)
        {
            long used = Interlocked.Read(ref _used);
            if (used + bytes > MaxBytes) return false;
            if (Interlocked.CompareExchange(ref _used, used + bytes, used) == used) return true;
        }
    }

    public void Release(long bytes) => Interlocked.Add(ref _used, -bytes);
}
