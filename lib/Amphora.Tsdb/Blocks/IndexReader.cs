using System.Buffers.Binary;
using Amphora.Model;

namespace Amphora.Tsdb.Blocks;

/// <summary>
/// Reads a Prometheus index (format v2) held in memory: the symbol table and postings offset table are decoded when opened,
/// series entries and postings lists when asked for. Every section's checksum is verified; a mismatch or a reference
/// outside the file is a <see cref="BlockFormatException"/>.
/// </summary>
public sealed class IndexReader
{
    private const int TocSize = 6 * 8 + 4;
    private readonly byte[] _data;
    private readonly string[] _symbols;
    private readonly long _seriesStart;
    /// <summary>Per label name: its values in order and each value's postings offset.</summary>
    private readonly Dictionary<string, (string[] Values, long[] Offsets)> _postingsTable = new(StringComparer.Ordinal);
    private readonly long _allPostingsOffset = -1;

    public IndexReader(byte[] data, string where)
    {
        _data = data;
        Where = where;
        if (data.Length < 5 + TocSize) throw Corrupt("index file is too short");
        if (BinaryPrimitives.ReadUInt32BigEndian(data) != IndexWriter.Magic) throw Corrupt("index has a wrong magic number");
        if (data[4] != IndexWriter.FormatV2) throw Corrupt($"index format version {data[4]} is not supported (only 2)");

        var toc = data.AsSpan(data.Length - TocSize);
        if (Crc32c.Compute(toc[..48]) != BinaryPrimitives.ReadUInt32BigEndian(toc[48..])) throw Corrupt("index TOC checksum mismatch");
        long symbolsAt = (long)BinaryPrimitives.ReadUInt64BigEndian(toc);
        _seriesStart = (long)BinaryPrimitives.ReadUInt64BigEndian(toc[8..]);
        long postingsTableAt = (long)BinaryPrimitives.ReadUInt64BigEndian(toc[40..]);

        var symbols = Section(symbolsAt, "symbol table");
        var r = new ByteReader(symbols);
        _symbols = new string[r.Be32()];
        for (int i = 0; i < _symbols.Length; i++) _symbols[i] = string.Intern(r.UvarintString());

        if (postingsTableAt == 0) return;
        var table = Section(postingsTableAt, "postings offset table");
        r = new ByteReader(table);
        uint entries = r.Be32();
        var names = new Dictionary<string, (List<string> Values, List<long> Offsets)>(StringComparer.Ordinal);
        for (uint i = 0; i < entries; i++)
        {
            if (r.Uvarint() != 2) throw Corrupt("postings offset table entry does not hold a name and a value");
            string name = r.UvarintString(), value = r.UvarintString();
            long offset = (long)r.Uvarint();
            if (name.Length == 0 && value.Length == 0)
            {
                _allPostingsOffset = offset;
                continue;
            }
            if (!names.TryGetValue(name, out var list)) names[name] = list = (new List<string>(), new List<long>());
            list.Values.Add(value);
            list.Offsets.Add(offset);
        }
        foreach (var (name, (values, offsets)) in names) _postingsTable[name] = (values.ToArray(), offsets.ToArray());
    }

    public string Where { get; }
    public long SizeBytes => _data.Length;
    public IReadOnlyCollection<string> LabelNames => _postingsTable.Keys;

    public IReadOnlyList<string> LabelValues(string name) => _postingsTable.TryGetValue(name, out var t) ? t.Values : [];

    /// <summary>The IDs of every series, in label order.</summary>
    public uint[] AllPostings() => _allPostingsOffset < 0 ? [] : ReadPostings(_allPostingsOffset);

    public uint[] Postings(string name, string value)
    {
        if (!_postingsTable.TryGetValue(name, out var t)) return [];
        int i = Array.BinarySearch(t.Values, value, Comparer<string>.Create(IndexWriter.Utf8Order));
        return i < 0 ? [] : ReadPostings(t.Offsets[i]);
    }

    /// <summary>Union of the postings of the values of <paramref name="name"/> that satisfy <paramref name="predicate"/>.</summary>
    public uint[] Postings(string name, Func<string, bool> predicate)
    {
        if (!_postingsTable.TryGetValue(name, out var t)) return [];
        var lists = new List<uint[]>();
        for (int i = 0; i < t.Values.Length; i++)
            if (predicate(t.Values[i])) lists.Add(ReadPostings(t.Offsets[i]));
        return PostingsMath.Union(lists);
    }

    private uint[] ReadPostings(long offset)
    {
        var r = new ByteReader(Section(offset, "postings list"));
        var ids = new uint[r.Be32()];
        for (int i = 0; i < ids.Length; i++) ids[i] = r.Be32();
        return ids;
    }

    /// <summary>The labels and chunk list of the series with this ID.</summary>
    public (Labels Labels, ChunkMeta[] Chunks) Series(uint id)
    {
        long offset = (long)id * 16;
        if (offset < _seriesStart || offset >= _data.Length) throw Corrupt($"series reference {id} is outside the series section");
        var r = new ByteReader(_data.AsSpan((int)offset));
        int length = checked((int)r.Uvarint());
        int start = (int)offset + r.Position;
        if (start + length + 4 > _data.Length) throw Corrupt($"series {id} runs past the end of the index");
        var body = _data.AsSpan(start, length);
        if (Crc32c.Compute(body) != BinaryPrimitives.ReadUInt32BigEndian(_data.AsSpan(start + length))) throw Corrupt($"series {id} checksum mismatch");

        r = new ByteReader(body);
        var labels = new Label[(int)r.Uvarint()];
        for (int i = 0; i < labels.Length; i++) labels[i] = new Label(Symbol(r.Uvarint()), Symbol(r.Uvarint()));
        var chunks = new ChunkMeta[(int)r.Uvarint()];
        long prevMaxT = 0;
        ulong prevRef = 0;
        for (int i = 0; i < chunks.Length; i++)
        {
            long minT = i == 0 ? r.Varint() : prevMaxT + (long)r.Uvarint();
            long maxT = minT + (long)r.Uvarint();
            ulong chunkRef = i == 0 ? r.Uvarint() : (ulong)((long)prevRef + r.Varint());
            chunks[i] = new ChunkMeta(minT, maxT, chunkRef);
            prevMaxT = maxT;
            prevRef = chunkRef;
        }
        return (Labels.FromSorted(labels), chunks);
    }

    private string Symbol(ulong index) =>
        index < (ulong)_symbols.Length ? _symbols[index] : throw Corrupt($"symbol reference {index} is outside the symbol table");

    /// <summary>A [len 4][body][CRC32C] section's body, checksum verified.</summary>
    private ReadOnlySpan<byte> Section(long offset, string what)
    {
        if (offset < 0 || offset + 8 > _data.Length) throw Corrupt($"{what} offset {offset} is outside the index");
        uint length = BinaryPrimitives.ReadUInt32BigEndian(_data.AsSpan((int)offset));
        if (offset + 4 + length + 4 > _data.Length) throw Corrupt($"{what} at {offset} runs past the end of the index");
        var body = _data.AsSpan((int)offset + 4, (int)length);
        if (Crc32c.Compute(body) != BinaryPrimitives.ReadUInt32BigEndian(_data.AsSpan((int)(offset + 4 + length))))
            throw Corrupt($"{what} at {offset} checksum mismatch");
        return body;
    }

    private BlockFormatException Corrupt(string what) => new($"{Where}: {what}");
}

/// <summary>Set operations on sorted postings lists.</summary>
internal static class PostingsMath
{
    public static uint[] Intersect(uint[] a, uint[] b)
    {
        var result = new List<uint>(Math.Min(a.Length, b.Length));
        int i = 0, j = 0;
        while (i < a.Length && j < b.Length)
        {
            if (a[i] == b[j]) { result.Add(a[i]); i++; j++; }
            else if (a[i] < b[j]) i++;
            else j++;
        }
        return result.ToArray();
    }

    public static uint[] Subtract(uint[] a, uint[] b)
    {
        var result = new List<uint>(a.Length);
        int j = 0;
        foreach (var x in a)
        {
            while (j < b.Length && b[j] < x) j++;
            if (j >= b.Length || b[j] != x) result.Add(x);
        }
        return result.ToArray();
    }

    public static uint[] Union(List<uint[]> lists)
    {
        if (lists.Count == 0) return [];
        if (lists.Count == 1) return lists[0];
        var all = new uint[lists.Sum(l => l.Length)];
        int n = 0;
        foreach (var l in lists) { l.CopyTo(all, n); n += l.Length; }
        Array.Sort(all);
        int w = 0;
        for (int i = 0; i < all.Length; i++)
            if (w == 0 || all[i] != all[w - 1]) all[w++] = all[i];
        return all[..w];
    }
}
