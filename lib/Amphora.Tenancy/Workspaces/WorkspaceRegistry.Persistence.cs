using System.Text.Json;
using Amphora.Tenancy.State;

namespace Amphora.Tenancy.Workspaces;

// Start and stop: the workspaces.json of earlier versions ({"workspaces": [record, ...]}) is imported into the shared state
// once, then renamed to workspaces.json.migrated; deletions left DELETING are resumed where this component completes them.
public sealed partial class WorkspaceRegistry
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>Where earlier versions kept this component's workspaces: <c>workspaces.json</c> in the data directory.</summary>
    public string LegacyFilePath { get; }

    private sealed record RegistryFile(List<WorkspaceRecord> Workspaces);

    protected override async Task StartingAsync(CancellationToken ct)
    {
        await MigrateLegacyFileAsync(ct).ConfigureAwait(false);
        ResumeDeletions();
    }

    protected override Task StoppingAsync(CancellationToken ct) => WhenIdleAsync().WaitAsync(ct);

    /// <summary>Imports the workspaces of <see cref="LegacyFilePath"/> that the shared state does not hold yet. A bucket that
    /// cannot be written now leaves the file in place for the next start (logged); a malformed file stops the start.</summary>
    private async Task MigrateLegacyFileAsync(CancellationToken ct)
    {
        if (!File.Exists(LegacyFilePath)) return;
        List<WorkspaceRecord> records;
        try
        {
            records = Parse(await File.ReadAllBytesAsync(LegacyFilePath, ct).ConfigureAwait(false));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{LegacyFilePath}: cannot migrate the workspaces of an earlier version: {e.Message}", e);
        }
        await LegacyImport.RunAsync(LegacyFilePath, "workspaces", records,
            ws => _store.UpdateWorkspaceAsync(ws.WorkspaceId, before => before ?? ws, ct), _store.BucketName, _logger).ConfigureAwait(false);
    }

    private List<WorkspaceRecord> Parse(byte[] bytes)
    {
        var file = JsonSerializer.Deserialize<RegistryFile>(bytes, Json) ?? throw new JsonException("empty registry file");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var records = new List<WorkspaceRecord>();
        foreach (var ws in file.Workspaces ?? [])
        {
            if (ws is null || string.IsNullOrEmpty(ws.WorkspaceId)) throw new JsonException("a workspace without workspaceId");
            if (Amphora.Model.WorkspaceIds.Validate(ws.WorkspaceId) is { } invalid) throw new JsonException(invalid.Message);
            WorkspaceValidation.Configuration(ws.Configuration ?? new WorkspaceConfiguration());
            if (!seen.Add(ws.WorkspaceId)) throw new JsonException($"workspace {ws.WorkspaceId} appears twice");
            records.Add(ws with
            {
                Arn = string.IsNullOrEmpty(ws.Arn) ? _options.WorkspaceArn(ws.WorkspaceId) : ws.Arn,
                Tags = ws.Tags ?? new Dictionary<string, string>(),
                Configuration = ws.Configuration ?? new WorkspaceConfiguration(),
                Status = string.IsNullOrEmpty(ws.Status) ? WorkspaceStatusCode.Active : ws.Status,
            });
        }
        return records;
    }
}
