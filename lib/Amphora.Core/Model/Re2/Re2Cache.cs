using System.Collections.Concurrent;

namespace Amphora.Model;

/// <summary>
/// Compiled patterns by their text, bounded in entries and in the total length of their translations (which the automata's
/// memory follows). Concurrent requests for one pattern share one compilation; a refused pattern is not kept. When a
/// bound is passed, the least recently used half is dropped.
/// </summary>
internal sealed class Re2Cache(int maxEntries, long maxTranslatedChars)
{
    private sealed class Entry(Lazy<Re2Regex> value)
    {
        public readonly Lazy<Re2Regex> Value = value;
        public long LastUse;
    }

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly Lock _evictLock = new();
    private long _clock;
    private long _translatedChars;

    public int Count => _entries.Count;

    public Re2Regex GetOrAdd(string pattern, Func<string, Re2Regex> compile)
    {
        var entry = _entries.GetOrAdd(pattern, p => new Entry(new Lazy<Re2Regex>(() =>
        {
            var compiled = compile(p);
            Interlocked.Add(ref _translatedChars, compiled.TranslatedLength);
            return compiled;
        }, LazyThreadSafetyMode.ExecutionAndPublication)));
        entry.LastUse = Interlocked.Increment(ref _clock);
        Re2Regex regex;
        try
        {
            regex = entry.Value.Value;
        }
        catch
        {
            _entries.TryRemove(new KeyValuePair<string, Entry>(pattern, entry));
            throw;
        }
        if (_entries.Count > maxEntries || Interlocked.Read(ref _translatedChars) > maxTranslatedChars) Evict();
        return regex;
    }

    /// <summary>Drops the least recently used half (at least down to the bounds); callers meanwhile keep what they hold.</summary>
    private void Evict()
    {
        lock (_evictLock)
        {
            if (_entries.Count <= maxEntries && Interlocked.Read(ref _translatedChars) <= maxTranslatedChars) return;
            var byAge = _entries.ToArray();
            var ages = byAge.Select(e => e.Value.LastUse).ToArray();
            Array.Sort(ages, byAge);
            long chars = Interlocked.Read(ref _translatedChars);
            for (int i = 0; i < byAge.Length; i++)
            {
                bool overBound = _entries.Count > maxEntries / 2 || chars > maxTranslatedChars / 2;
                if (!overBound) break;
                // One still compiling is left alone: its size is counted when it is done.
                if (!byAge[i].Value.Value.IsValueCreated || !_entries.TryRemove(byAge[i])) continue;
                chars = Interlocked.Add(ref _translatedChars, -byAge[i].Value.Value.Value.TranslatedLength);
            }
        }
    }
}
