using System.Text;
using Amphora.Model;

namespace Amphora.Tsdb.Blocks;

/// <summary>A chunk as the index lists it: time range and reference into the chunk segments.</summary>
public readonly record struct ChunkMeta(long MinT, long MaxT, ulong Ref);

/// <summary>
/// Writes a Prometheus index (format v2): symbol table, series (16-byte aligned, ID = offset / 16), label indices, postings
/// (the all-series list under the empty name and value first), the label and postings offset tables, and the TOC, each
/// section checksummed with CRC32C. Series must be added in label order. The file is built in memory and written once.
/// See docs/format/blocks.md.
/// </summary>
internal sealed class IndexWriter
{
    public const uint Magic = 0xBAAAD700;
    public const byte FormatV2 = 2;

    private readonly List<(Labels Labels, ChunkMeta[] Chunks)> _series = new();

    public void Add(Labels labels, ChunkMeta[] chunks)
    {
        if (_series.Count > 0 && _series[^1].Labels.CompareTo(labels) >= 0)
            throw new InvalidOperationException($"series must be added in label order: {labels} after {_series[^1].Labels}");
        _series.Add((labels, chunks));
    }

    public int SeriesCount => _series.Count;

    public void WriteTo(string path)
    {
        var symbols = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (labels, _) in _series)
            foreach (var l in labels) { symbols.Add(l.Name); symbols.Add(l.Value); }
        var symbolList = symbols.ToArray();
        Array.Sort(symbolList, Utf8Order);
        var symbolIndex = new Dictionary<string, uint>(symbolList.Length, StringComparer.Ordinal);
        for (int i = 0; i < symbolList.Length; i++) symbolIndex[symbolList[i]] = (uint)i;

        var w = new ByteWriter(1 << 20);
        w.Be32(Magic);
        w.Byte(FormatV2);

        long symbolsOffset = w.Length;
        Section(w, body =>
        {
            body.Be32((uint)symbolList.Length);
            foreach (var s in symbolList) body.UvarintString(s);
        });

        // Series, remembering each one's ID and the postings of every label pair.
        w.PadTo(16);
        long seriesOffset = w.Length;
        var postings = new SortedDictionary<string, SortedDictionary<string, List<uint>>>(Comparer<string>.Create(Utf8Order));
        var all = new List<uint>(_series.Count);
        var entry = new ByteWriter(256);
        foreach (var (labels, chunks) in _series)
        {
            w.PadTo(16);
            uint id = checked((uint)(w.Length / 16));
            all.Add(id);
            entry.Reset();
            entry.Uvarint((ulong)labels.Count);
            foreach (var l in labels)
            {
                entry.Uvarint(symbolIndex[l.Name]);
                entry.Uvarint(symbolIndex[l.Value]);
                if (!postings.TryGetValue(l.Name, out var values))
                    postings[l.Name] = values = new SortedDictionary<string, List<uint>>(Comparer<string>.Create(Utf8Order));
                if (!values.TryGetValue(l.Value, out var list)) values[l.Value] = list = new List<uint>();
                list.Add(id);
            }
            entry.Uvarint((ulong)chunks.Length);
            for (int i = 0; i < chunks.Length; i++)
            {
                var c = chunks[i];
                if (i == 0)
                {
                    entry.Varint(c.MinT);
                    entry.Uvarint((ulong)(c.MaxT - c.MinT));
                    entry.Uvarint(c.Ref);
                }
                else
                {
                    entry.Uvarint((ulong)(c.MinT - chunks[i - 1].MaxT));
                    entry.Uvarint((ulong)(c.MaxT - c.MinT));
                    entry.Varint((long)c.Ref - (long)chunks[i - 1].Ref);
                }
            }
            w.Uvarint((ulong)entry.Length);
            w.Bytes(entry.Span);
            w.Be32(Crc32c.Compute(entry.Span));
        }

        // Label indices (no longer read by Prometheus, written for older readers) and their offset table.
        w.PadTo(4);
        long labelIndicesOffset = w.Length;
        var labelIndexOffsets = new List<(string Name, long Offset)>();
        foreach (var (name, values) in postings)
        {
            w.PadTo(4);
            labelIndexOffsets.Add((name, w.Length));
            Section(w, body =>
            {
                body.Be32(1);
                body.Be32((uint)values.Count);
                foreach (var value in values.Keys) body.Be32(symbolIndex[value]);
            });
        }

        w.PadTo(4);
        long postingsOffset = w.Length;
        var postingsOffsets = new List<(string Name, string Value, long Offset)>();
        void WritePostings(string name, string value, List<uint> ids)
        {
            w.PadTo(4);
            postingsOffsets.Add((name, value, w.Length));
            Section(w, body =>
            {
                body.Be32((uint)ids.Count);
                foreach (var id in ids) body.Be32(id);
            });
        }
        WritePostings("", "", all);
        foreach (var (name, values) in postings)
            foreach (var (value, ids) in values) WritePostings(name, value, ids);

        long labelOffsetTableOffset = w.Length;
        Section(w, body =>
        {
            body.Be32((uint)labelIndexOffsets.Count);
            foreach (var (name, offset) in labelIndexOffsets)
            {
                body.Uvarint(1);
                body.UvarintString(name);
                body.Uvarint((ulong)offset);
            }
        });

        long postingsTableOffset = w.Length;
        Section(w, body =>
        {
            body.Be32((uint)postingsOffsets.Count);
            foreach (var (name, value, offset) in postingsOffsets)
            {
                body.Uvarint(2);
                body.UvarintString(name);
                body.UvarintString(value);
                body.Uvarint((ulong)offset);
            }
        });

        int tocStart = w.Length;
        w.Be64((ulong)symbolsOffset);
        w.Be64((ulong)seriesOffset);
        w.Be64((ulong)labelIndicesOffset);
        w.Be64((ulong)labelOffsetTableOffset);
        w.Be64((ulong)postingsOffset);
        w.Be64((ulong)postingsTableOffset);
        w.Be32(Crc32c.Compute(w.Span.Slice(tocStart)));

        using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        file.Write(w.Span);
        file.Flush(flushToDisk: true);
    }

    /// <summary>[len 4 bytes][body][CRC32C of body]: the shape of most index sections.</summary>
    private static void Section(ByteWriter w, Action<ByteWriter> body)
    {
        int lengthAt = w.Length;
        w.Be32(0);
        int start = w.Length;
        body(w);
        int length = w.Length - start;
        w.PutBe32At(lengthAt, (uint)length);
        w.Be32(Crc32c.Compute(w.Span.Slice(start, length)));
    }

    /// <summary>Prometheus sorts strings by their UTF-8 bytes; UTF-16 ordinal order differs only around surrogate pairs.</summary>
    internal static int Utf8Order(string? a, string? b)
    {
        int c = string.CompareOrdinal(a, b);
        if (c == 0 || a is null || b is null) return c;
        if (!HasSurrogates(a) && !HasSurrogates(b)) return c;
        return Encoding.UTF8.GetBytes(a).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(b));
    }

    private static bool HasSurrogates(string s)
    {
        foreach (char ch in s)
            if (char.IsSurrogate(ch)) return true;
        return false;
    }
}
