namespace Amphora.Distributor.Otlp;

/// <summary>
/// How OTLP metric and attribute names become Prometheus names, as Prometheus 3's <c>otlp.translation_strategy</c> names them.
/// The two strategies that keep UTF-8 store names as sent when the UTF-8 name validation scheme is on
/// (<see cref="OtlpOptions.Utf8Names"/>); under the legacy scheme they keep a name only where it is already a valid legacy
/// name, and refuse the others (counted in the partial success) rather than store them under a name the sender did not choose.
/// </summary>
public enum OtlpTranslationStrategy
{
    /// <summary>Invalid characters become <c>_</c>; unit and type suffixes are added (<c>_seconds</c>, <c>_total</c>, <c>_ratio</c>).</summary>
    UnderscoreEscapingWithSuffixes,
    /// <summary>Invalid characters become <c>_</c>; no suffixes.</summary>
    UnderscoreEscapingWithoutSuffixes,
    /// <summary>Names kept as sent, with unit and type suffixes.</summary>
    NoUTF8EscapingWithSuffixes,
    /// <summary>Names kept exactly as sent.</summary>
    NoTranslation,
}

/// <summary>The OTLP translation options (flags <c>otlp.*</c>), the same for every workspace.</summary>
public sealed record OtlpOptions
{
    public OtlpTranslationStrategy TranslationStrategy { get; init; } = OtlpTranslationStrategy.UnderscoreEscapingWithSuffixes;

    /// <summary>Resource attributes copied onto every series of their resource as labels (besides <c>target_info</c>).</summary>
    public IReadOnlyList<string> PromoteResourceAttributes { get; init; } = [];

    /// <summary>Keep <c>service.name</c>, <c>service.namespace</c> and <c>service.instance.id</c> as labels of <c>target_info</c>
    /// too (they are always in <c>job</c> and <c>instance</c>).</summary>
    public bool KeepIdentifyingResourceAttributes { get; init; }

    /// <summary>Names may be any UTF-8 text (<c>validation.name-validation-scheme=utf8</c>, as the distributor's validation).</summary>
    public bool Utf8Names { get; init; }

    public bool EscapesNames => TranslationStrategy is OtlpTranslationStrategy.UnderscoreEscapingWithSuffixes
        or OtlpTranslationStrategy.UnderscoreEscapingWithoutSuffixes;

    public bool AddsSuffixes => TranslationStrategy is OtlpTranslationStrategy.UnderscoreEscapingWithSuffixes
        or OtlpTranslationStrategy.NoUTF8EscapingWithSuffixes;

    /// <summary>Parses a strategy name as the flag takes it; null when it is none of them.</summary>
    public static OtlpTranslationStrategy? ParseStrategy(string text) =>
        Enum.TryParse<OtlpTranslationStrategy>(text, ignoreCase: false, out var s) && Enum.IsDefined(s) && !int.TryParse(text, out _) ? s : null;
}
