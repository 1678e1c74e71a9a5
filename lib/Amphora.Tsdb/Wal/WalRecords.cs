using Amphora.Model;
using System.Buffers.Binary;
using System.Text;

namespace Amphora.Tsdb.Wal;

public readonly record struct WalSeries(string Workspace, ulong Ref, Labels Labels);
public readonly record struct WalSample(ulong Ref, long T, double V);
/// <summary>The start timestamp <paramref name="ST"/> of the sample of series <paramref name="Ref"/> at <paramref name="T"/>.</summary>
public readonly record struct WalStartTimestamp(ulong Ref, long T, long ST);
/// <summary>An exemplar of series <paramref name="Ref"/>.</summary>
public readonly record struct WalExemplar(ulong Ref, Exemplar Exemplar);

/// <summary>Payload codecs for Series and Samples records (layouts in docs/format/wal.md).</summary>
public static class WalRecords
{
    public static byte[] EncodeSeries(in WalSeries s)
    {
        int size = StringSize(s.Workspace) + 8 + 4;
        foreach (var l in s.Labels.AsSpan()) size += StringSize(l.Name) + StringSize(l.Value);
        var buf = new byte[size];
        int pos = WriteString(buf, 0, s.Workspace);
        BinaryPrimitives.WriteUInt64LittleEndian(buf.AsSpan(pos), s.Ref); pos += 8;
        BinaryPrimitives.WriteInt32LittleEndian(buf.AsSpan(pos), s.Labels.Count); pos += 4;
        foreach (var l in s.Labels.AsSpan()) { pos = WriteString(buf, pos, l.Name); pos = WriteString(buf, pos, l.Value); }
        return buf;
    }

    public static WalSeries DecodeSeries(ReadOnlySpan<byte> p)
    {
        int pos = 0;
        var ws = ReadString(p, ref pos);
        ulong r = BinaryPrimitives.ReadUInt64LittleEndian(p.Slice(pos)); pos += 8;
        int n = BinaryPrimitives.ReadInt32LittleEndian(p.Slice(pos)); pos += 4;
        var labels = new Label[n];
        for (int i = 0; i < n; i++) labels[i] = new Label(ReadString(p, ref pos), ReadString(p, ref pos));
        return new WalSeries(ws, r, Labels.FromSorted(labels));
    }

    public static byte[] EncodeSamples(string workspace, ReadOnlySpan<WalSample> samples)
    {
        var buf = new byte[StringSize(workspace) + 4 + samples.Length * 24];
        int pos = WriteString(buf, 0, workspace);
        BinaryPrimitives.WriteInt32LittleEndian(buf.AsSpan(pos), samples.Length); pos += 4;
        foreach (var s in samples)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(buf.AsSpan(pos), s.Ref);
            BinaryPrimitives.WriteInt64LittleEndian(buf.AsSpan(pos + 8), s.T);
            BinaryPrimitives.WriteDoubleLittleEndian(buf.AsSpan(pos + 16), s.V);
            pos += 24;
        }
        return buf;
    }

    public static (string Workspace, WalSample[] Samples) DecodeSamples(ReadOnlySpan<byte> p)
    {
        int pos = 0;
        var ws = ReadString(p, ref pos);
        int n = BinaryPrimitives.ReadInt32LittleEndian(p.Slice(pos)); pos += 4;
        var result = new WalSample[n];
        for (int i = 0; i < n; i++, pos += 24)
            result[i] = new WalSample(BinaryPrimitives.ReadUInt64LittleEndian(p.Slice(pos)),
                BinaryPrimitives.ReadInt64LittleEndian(p.Slice(pos + 8)), BinaryPrimitives.ReadDoubleLittleEndian(p.Slice(pos + 16)));
        return (ws, result);
    }

    /// <summary>StartTimestamps: workspace, count, then per sample its series ref, time and start timestamp (24 bytes).</summary>
    public static byte[] EncodeStartTimestamps(string workspace, ReadOnlySpan<WalStartTimestamp> entries)
    {
        var buf = new byte[StringSize(workspace) + 4 + entries.Length * 24];
        int pos = WriteString(buf, 0, workspace);
        BinaryPrimitives.WriteInt32LittleEndian(buf.AsSpan(pos), entries.Length); pos += 4;
        foreach (var e in entries)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(buf.AsSpan(pos), e.Ref);
            BinaryPrimitives.WriteInt64LittleEndian(buf.AsSpan(pos + 8), e.T);
            BinaryPrimitives.WriteInt64LittleEndian(buf.AsSpan(pos + 16), e.ST);
            pos += 24;
        }
        return buf;
    }

    public static (string Workspace, WalStartTimestamp[] Entries) DecodeStartTimestamps(ReadOnlySpan<byte> p)
    {
        int pos = 0;
        var ws = ReadString(p, ref pos);
        int n = BinaryPrimitives.ReadInt32LittleEndian(p.Slice(pos)); pos += 4;
        var result = new WalStartTimestamp[n];
        for (int i = 0; i < n; i++, pos += 24)
            result[i] = new WalStartTimestamp(BinaryPrimitives.ReadUInt64LittleEndian(p.Slice(pos)),
                BinaryPrimitives.ReadInt64LittleEndian(p.Slice(pos + 8)), BinaryPrimitives.ReadInt64LittleEndian(p.Slice(pos + 16)));
        return (ws, result);
    }

    /// <summary>Exemplars: workspace, count, then per exemplar its series ref, time, value and label count, then its labels
    /// (name and value strings).</summary>
    public static byte[] EncodeExemplars(string workspace, ReadOnlySpan<WalExemplar> exemplars)
    {
        int size = StringSize(workspace) + 4;
        foreach (var e in exemplars)
        {
            size += 8 + 8 + 8 + 4;
            foreach (var l in e.Exemplar.Labels.AsSpan()) size += StringSize(l.Name) + StringSize(l.Value);
        }
        var buf = new byte[size];
        int pos = WriteString(buf, 0, workspace);
        BinaryPrimitives.WriteInt32LittleEndian(buf.AsSpan(pos), exemplars.Length); pos += 4;
        foreach (var e in exemplars)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(buf.AsSpan(pos), e.Ref);
            BinaryPrimitives.WriteInt64LittleEndian(buf.AsSpan(pos + 8), e.Exemplar.T);
            BinaryPrimitives.WriteDoubleLittleEndian(buf.AsSpan(pos + 16), e.Exemplar.Value);
            BinaryPrimitives.WriteInt32LittleEndian(buf.AsSpan(pos + 24), e.Exemplar.Labels.Count);
            pos += 28;
            foreach (var l in e.Exemplar.Labels.AsSpan()) { pos = WriteString(buf, pos, l.Name); pos = WriteString(buf, pos, l.Value); }
        }
        return buf;
    }

    /// <summary>Decodes <see cref="EncodeExemplars"/>; a count or length past the payload's end is
    /// <see cref="InvalidDataException"/> (the record's checksum matched, so that is a writer's bug, not a torn write).</summary>
    public static (string Workspace, WalExemplar[] Exemplars) DecodeExemplars(ReadOnlySpan<byte> p)
    {
        int pos = 0;
        var ws = ReadString(p, ref pos);
        int n = BinaryPrimitives.ReadInt32LittleEndian(p.Slice(pos)); pos += 4;
        if (n < 0 || (long)n * 28 > p.Length - pos) throw new InvalidDataException($"an exemplar WAL record claims {n} exemplars past its end");
        var result = new WalExemplar[n];
        for (int i = 0; i < n; i++)
        {
            ulong r = BinaryPrimitives.ReadUInt64LittleEndian(p.Slice(pos));
            long t = BinaryPrimitives.ReadInt64LittleEndian(p.Slice(pos + 8));
            double v = BinaryPrimitives.ReadDoubleLittleEndian(p.Slice(pos + 16));
            int labelCount = BinaryPrimitives.ReadInt32LittleEndian(p.Slice(pos + 24));
            pos += 28;
            if (labelCount < 0 || (long)labelCount * 8 > p.Length - pos) throw new InvalidDataException($"an exemplar WAL record claims {labelCount} labels past its end");
            var labels = new Label[labelCount];
            for (int k = 0; k < labelCount; k++) labels[k] = new Label(ReadString(p, ref pos), ReadString(p, ref pos));
            result[i] = new WalExemplar(r, new Exemplar(Labels.FromSorted(labels), v, t));
        }
        return (ws, result);
    }

    /// <summary>Metadata: workspace, family, type, help, unit (strings as in the other records).</summary>
    public static byte[] EncodeMetadata(string workspace, Amphora.Storage.MetricMetadata m)
    {
        var buf = new byte[StringSize(workspace) + StringSize(m.MetricFamilyName) + StringSize(m.Type) + StringSize(m.Help) + StringSize(m.Unit)];
        int pos = WriteString(buf, 0, workspace);
        pos = WriteString(buf, pos, m.MetricFamilyName);
        pos = WriteString(buf, pos, m.Type);
        pos = WriteString(buf, pos, m.Help);
        WriteString(buf, pos, m.Unit);
        return buf;
    }

    public static (string Workspace, Amphora.Storage.MetricMetadata Metadata) DecodeMetadata(ReadOnlySpan<byte> p)
    {
        int pos = 0;
        string ws = ReadString(p, ref pos);
        string family = ReadString(p, ref pos), type = ReadString(p, ref pos), help = ReadString(p, ref pos), unit = ReadString(p, ref pos);
        return (ws, new Amphora.Storage.MetricMetadata(family, type, help, unit));
    }

    public static byte[] EncodeWorkspace(string workspace)
    {
        var buf = new byte[StringSize(workspace)];
        WriteString(buf, 0, workspace);
        return buf;
    }

    public static string DecodeWorkspace(ReadOnlySpan<byte> p)
    {
        int pos = 0;
        return ReadString(p, ref pos);
    }

    internal static int StringSize(string s) => 4 + Encoding.UTF8.GetByteCount(s);

    internal static int WriteString(byte[] buf, int pos, string s)
    {
        int len = Encoding.UTF8.GetBytes(s, 0, s.Length, buf, pos + 4);
        BinaryPrimitives.WriteInt32LittleEndian(buf.AsSpan(pos), len);
        return pos + 4 + len;
    }

    internal static string ReadString(ReadOnlySpan<byte> p, ref int pos)
    {
        int len = BinaryPrimitives.ReadInt32LittleEndian(p.Slice(pos));
        var s = Encoding.UTF8.GetString(p.Slice(pos + 4, len));
        pos += 4 + len;
        return s;
    }
}
