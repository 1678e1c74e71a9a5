using System.Globalization;
using System.Text;
using System.Text.Json;
using Amphora.Distributor.Otlp.Proto;
using Amphora.Distributor.Prompb;
using Amphora.Model;
using Google.Protobuf.Collections;

namespace Amphora.Distributor.Otlp;

public static partial class OtlpTranslator
{
    /// <summary>The labels a resource gives its series: job, instance, the promoted attributes, and those of target_info.</summary>
    private sealed class ResourceLabels
    {
        public string? Job { get; private init; }
        public string? Instance { get; private init; }
        public List<KeyValuePair<string, string>> Promoted { get; } = [];
        public Dictionary<string, string> TargetInfo { get; } = new(StringComparer.Ordinal);

        public static ResourceLabels From(Resource? resource, OtlpOptions options)
        {
            var attributes = resource?.Attributes ?? [];
            string? service = null, ns = null, instance = null;
            foreach (var a in attributes)
            {
                switch (a.Key)
                {
                    case "service.name": service = AttributeText(a.Value); break;
                    case "service.namespace": ns = AttributeText(a.Value); break;
                    case "service.instance.id": instance = AttributeText(a.Value); break;
                }
            }
            var labels = new ResourceLabels
            {
                Job = service is null ? null : string.IsNullOrEmpty(ns) ? service : ns + "/" + service,
                Instance = instance,
            };
            foreach (var a in Sorted(attributes))
            {
                bool identifying = a.Key is "service.name" or "service.namespace" or "service.instance.id";
                string name = OtlpNames.LabelName(a.Key, options);
                if (!LabelNames.IsValid(name, options.Utf8Names, metric: false)) continue;
                string value = AttributeText(a.Value);
                if (!identifying || options.KeepIdentifyingResourceAttributes) Merge(labels.TargetInfo, name, value);
                if (options.PromoteResourceAttributes.Contains(a.Key)) labels.Promoted.Add(new(name, value));
            }
            return labels;
        }

        /// <summary>Sets job and instance, which win over attributes of the same name, as in Prometheus.</summary>
        public void AddIdentity(Dictionary<string, string> labels)
        {
            if (Job is not null) labels["job"] = Job;
            if (Instance is not null) labels["instance"] = Instance;
        }
    }

    /// <summary>Writes the series of one metric, point by point: the point's labels are set by <see cref="TryBegin"/>.</summary>
    private sealed class SeriesWriter(OtlpTranslation result, ResourceLabels resource, OtlpOptions options, string name, string shown)
    {
        private readonly Dictionary<string, string> _labels = new(StringComparer.Ordinal);

        /// <summary>Takes a point's attributes and time; false (the point counted as refused) when they cannot be stored.</summary>
        public bool TryBegin(RepeatedField<KeyValue> attributes, ulong timeUnixNano, out long t)
        {
            t = 0;
            if (timeUnixNano == 0)
            {
                RejectPoint("has no time_unix_nano (it is 0)");
                return false;
            }
            _labels.Clear();
            foreach (var a in Sorted(attributes))
            {
                string label = OtlpNames.LabelName(a.Key, options);
                if (label.Length == 0) continue;
                if (!LabelNames.IsValid(label, options.Utf8Names, metric: false))
                {
                    RejectPoint($"has the attribute \"{Shown(a.Key)}\", kept as a label name by --otlp.translation-strategy=" +
                        $"{options.TranslationStrategy}, but under the legacy name validation scheme label names must match " +
                        "[a-zA-Z_][a-zA-Z0-9_]*; set --validation.name-validation-scheme=utf8 to store it as sent, or use " +
                        "--otlp.translation-strategy=UnderscoreEscapingWithSuffixes (the default)");
                    return false;
                }
                Merge(_labels, label, AttributeText(a.Value));
            }
            foreach (var (k, v) in resource.Promoted) _labels.TryAdd(k, v);
            resource.AddIdentity(_labels);
            t = (long)(timeUnixNano / 1_000_000);
            return true;
        }

        /// <summary>The result outgrew the per-request limits: nothing more is worth translating.</summary>
        public bool Full => result.OverLimit;

        public OtlpOptions Options => options;

        public void RejectPoint(string why) => result.Reject(InvalidPointId, $"a point of metric \"{shown}\" {why}", 1);

        /// <summary>One series of the current point: the metric name plus <paramref name="suffix"/>, and one extra label.</summary>
        public TimeSeries Add(string suffix, string? extraName, string? extraValue, long t, double v)
        {
            var ts = Append(result, Labels(suffix, extraName, extraValue));
            ts.Samples.Add(new Sample { Timestamp = t, Value = v });
            return ts;
        }

        /// <summary>The native histogram series of the current point, holding <paramref name="histogram"/>.</summary>
        public TimeSeries AddHistogram(Prompb.Histogram histogram)
        {
            var ts = Append(result, Labels("", null, null));
            ts.Histograms.Add(histogram);
            return ts;
        }

        private List<KeyValuePair<string, string>> Labels(string suffix, string? extraName, string? extraValue)
        {
            var labels = new List<KeyValuePair<string, string>>(_labels.Count + 2);
            foreach (var l in _labels)
                if (l.Key != extraName && l.Key != LabelNames.MetricName) labels.Add(l);
            labels.Add(new(LabelNames.MetricName, name + suffix));
            if (extraName is not null) labels.Add(new(extraName, extraValue!));
            return labels;
        }

        /// <summary>Adds one series of one sample; labels with empty values are left out (Prometheus treats them as absent).</summary>
        public static void Append(OtlpTranslation result, List<KeyValuePair<string, string>> labels, long t, double v) =>
            Append(result, labels).Samples.Add(new Sample { Timestamp = t, Value = v });

        /// <summary>Adds one series without its sample, which the caller adds (one sample or one histogram).</summary>
        private static TimeSeries Append(OtlpTranslation result, List<KeyValuePair<string, string>> labels)
        {
            labels.Sort(static (a, b) => string.CompareOrdinal(a.Key, b.Key));
            var ts = new TimeSeries();
            long bytes = 0;
            foreach (var (k, value) in labels)
            {
                if (value.Length == 0) continue;
                var label = new Prompb.Label { Name = Utf8(k), Value = Utf8(value) };
                bytes += label.Name.Length + label.Value.Length;
                ts.Labels.Add(label);
            }
            result.Request.Timeseries.Add(ts);
            result.Counted(ts.Labels.Count, bytes);
            return ts;
        }
    }

    /// <summary>Attributes by key, so names that collide after translation join their values in a stable order.</summary>
    private static IEnumerable<KeyValue> Sorted(RepeatedField<KeyValue> attributes) =>
        attributes.Count <= 1 ? attributes : attributes.OrderBy(a => a.Key, StringComparer.Ordinal);

    /// <summary>Two attributes that translate to one label name (<c>a.b</c> and <c>a_b</c>) keep both values, joined with <c>;</c>.</summary>
    private static void Merge(Dictionary<string, string> labels, string name, string value) =>
        labels[name] = labels.TryGetValue(name, out var existing) ? existing + ";" + value : value;

    /// <summary>An attribute value as label text: strings as they are, numbers and booleans as text, arrays and maps as JSON.</summary>
    internal static string AttributeText(AnyValue? value)
    {
        if (value is null) return "";
        switch (value.ValueCase)
        {
            case AnyValue.ValueOneofCase.StringValue: return value.StringValue;
            case AnyValue.ValueOneofCase.BoolValue: return value.BoolValue ? "true" : "false";
            case AnyValue.ValueOneofCase.IntValue: return value.IntValue.ToString(CultureInfo.InvariantCulture);
            case AnyValue.ValueOneofCase.DoubleValue: return OtlpNames.FormatFloat(value.DoubleValue);
            case AnyValue.ValueOneofCase.BytesValue: return value.BytesValue.ToBase64();
            case AnyValue.ValueOneofCase.ArrayValue or AnyValue.ValueOneofCase.KvlistValue:
                using (var stream = new MemoryStream())
                {
                    using (var json = new Utf8JsonWriter(stream)) WriteJson(json, value);
                    return Encoding.UTF8.GetString(stream.ToArray());
                }
            default: return "";
        }
    }

    private static void WriteJson(Utf8JsonWriter json, AnyValue value)
    {
        switch (value.ValueCase)
        {
            case AnyValue.ValueOneofCase.BoolValue: json.WriteBooleanValue(value.BoolValue); break;
            case AnyValue.ValueOneofCase.IntValue: json.WriteNumberValue(value.IntValue); break;
            case AnyValue.ValueOneofCase.DoubleValue when double.IsFinite(value.DoubleValue): json.WriteNumberValue(value.DoubleValue); break;
            case AnyValue.ValueOneofCase.ArrayValue:
                json.WriteStartArray();
                foreach (var v in value.ArrayValue.Values) WriteJson(json, v);
                json.WriteEndArray();
                break;
            case AnyValue.ValueOneofCase.KvlistValue:
                json.WriteStartObject();
                foreach (var kv in value.KvlistValue.Values)
                {
                    json.WritePropertyName(kv.Key);
                    if (kv.Value is null) json.WriteNullValue();
                    else WriteJson(json, kv.Value);
                }
                json.WriteEndObject();
                break;
            case AnyValue.ValueOneofCase.None: json.WriteNullValue(); break;
            default: json.WriteStringValue(AttributeText(value)); break;
        }
    }
}
