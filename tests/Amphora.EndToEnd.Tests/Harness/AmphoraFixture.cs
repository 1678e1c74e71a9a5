using Xunit;

namespace Amphora.EndToEnd.Tests.Harness;

/// <summary>One all-in-one amphora process shared by the tests of a class (each test writes its own metric names).</summary>
public sealed class AmphoraFixture : IAsyncLifetime
{
    public AmphoraProcess Process { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Process = AmphoraProcess.Start();
        await Process.WaitReadyAsync();
    }

    public async Task DisposeAsync()
    {
        await Process.TerminateAsync(TimeSpan.FromSeconds(30));
        Process.Dispose();
    }

    public RemoteWriteClient Writer() => new(Process.BaseAddress);

    /// <summary>The query API of a workspace, through <c>/prometheus/api/v1</c> with <c>X-Scope-OrgID</c>.</summary>
    public PromApiClient Api(string workspace) => new(Process.BaseAddress, "/prometheus/api/v1", workspace);

    /// <summary>The query API of a workspace, through <c>/workspaces/{id}/api/v1</c>.</summary>
    public PromApiClient WorkspaceApi(string workspace) => new(Process.BaseAddress, $"/workspaces/{workspace}/api/v1");
}
