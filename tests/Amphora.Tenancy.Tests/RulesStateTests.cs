using System.Text;
using Amphora.Bucket;
using Amphora.Tenancy.Rules;
using Amphora.Tenancy.State;

namespace Amphora.Tenancy.Tests;

/// <summary>Rule groups namespaces and Alertmanager definitions as objects of the shared tenancy state.</summary>
public sealed class RulesStateTests : IDisposable
{
    private readonly TenancyFixture _f = new();

    public void Dispose() => _f.Dispose();

    private Task Upload(string name, byte[] content) =>
        new FilesystemBucket(_f.Dir.File("bucket")).UploadAsync(TenancyStore.Prefix + name, new MemoryStream(content));

    [Fact]
    public async Task Objects_that_are_not_what_their_name_says_are_ignored_and_named_and_cannot_be_changed_until_repaired()
    {
        var ws = (await _f.Registry.CreateAsync("w", null, null)).WorkspaceId;
        var real = await _f.Rules.CreateNamespaceAsync(ws, "real", Encoding.UTF8.GetBytes(RulesApiTests.RuleFile), null, null);
        await Upload($"rulegroupsnamespaces/{ws}/other.json", TenancyLayout.Serialize(real));
        await Upload($"alertmanager/{ws}.json", "{ not json"u8.ToArray());
        await Upload($"rulegroupsnamespaces/{ws}/deeper/x.json", "kept as it is"u8.ToArray());

        await _f.Store.SyncAsync();

        Assert.Equal(["real"], _f.Store.RuleGroupsNamespaces(ws).Select(n => n.Name));
        Assert.Null(_f.Store.FindAlertManagerDefinition(ws));
        Assert.Equal([$"alertmanager/{ws}.json", $"rulegroupsnamespaces/{ws}/other.json"],
            _f.Store.Current.Invalid.Select(i => i.Name).Order(StringComparer.Ordinal));
        var e = await Assert.ThrowsAsync<TenancyException>(() => _f.Rules.DeleteAlertManagerDefinitionAsync(ws, null));
        Assert.Equal(TenancyErrorKind.Unavailable, e.Kind);
        Assert.Contains($"alertmanager/{ws}.json", e.Message);
    }

    [Fact]
    public async Task A_namespace_is_stored_as_AMP_s_fields_with_the_rule_file_as_base64()
    {
        var ws = (await _f.Registry.CreateAsync("w", null, null)).WorkspaceId;
        await _f.Rules.CreateNamespaceAsync(ws, "n", Encoding.UTF8.GetBytes("groups: []\n"), new Dictionary<string, string> { ["t"] = "v" }, "tok");
        string json = File.ReadAllText(Path.Combine(_f.Dir.File("bucket"), "tenancy", "rulegroupsnamespaces", ws, "n.json"));
        foreach (var field in new[] { "\"workspaceId\"", "\"name\": \"n\"", "\"arn\"", "\"data\": \"Z3JvdXBzOiBbXQo=\"", "\"tags\"", "\"createdAt\"",
                     "\"modifiedAt\"", "\"statusCode\": \"ACTIVE\"", "\"clientToken\": \"tok\"" })
            Assert.Contains(field, json);
        Assert.DoesNotContain("statusReason", json);
    }

    [Fact]
    public async Task Concurrent_puts_of_one_namespace_from_two_components_both_succeed_and_both_end_with_the_same_file()
    {
        var ws = (await _f.Registry.CreateAsync("w", null, null)).WorkspaceId;
        await _f.Rules.CreateNamespaceAsync(ws, "n", Encoding.UTF8.GetBytes("groups: []\n"), null, null);
        var otherStore = _f.NewStore("other");
        await otherStore.SyncAsync();
        var other = new RulesRegistry(_f.Options, otherStore);
        byte[] a = Encoding.UTF8.GetBytes("groups:\n  - name: a\n    rules: []\n"), b = Encoding.UTF8.GetBytes("groups:\n  - name: b\n    rules: []\n");
        await Task.WhenAll(Task.Run(() => _f.Rules.PutNamespaceAsync(ws, "n", a, null)), Task.Run(() => other.PutNamespaceAsync(ws, "n", b, null)));
        await _f.Store.SyncAsync();
        await otherStore.SyncAsync();
        byte[] final = _f.Store.FindRuleGroupsNamespace(ws, "n")!.Data;
        Assert.True(final.AsSpan().SequenceEqual(a) || final.AsSpan().SequenceEqual(b));
        Assert.Equal(final, otherStore.FindRuleGroupsNamespace(ws, "n")!.Data);
    }
}
