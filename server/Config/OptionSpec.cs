namespace Amphora.Server.Config;

/// <summary>
/// One configuration option: its flag (<c>--wal.fsync</c>), the YAML key derived from it (<c>wal: { fsync: }</c>; dashes become
/// underscores), its default as text, a sentence of help, and how a text value is applied to <see cref="AmphoraConfig"/>.
/// Flags and YAML keys are a stable contract: later versions may add options but never rename them.
/// </summary>
public sealed record OptionSpec(string Flag, string Default, string Help, Action<AmphoraConfig, string> Apply, bool IsSwitch = false)
{
    /// <summary>The YAML path: dots nest, dashes become underscores (<c>data-dir</c> → <c>data_dir</c>).</summary>
    public string YamlPath => Flag.Replace('-', '_');
}
