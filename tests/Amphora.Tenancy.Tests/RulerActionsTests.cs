using Amphora.Tenancy.Auth;
using Amphora.Tenancy.Keys;
using Xunit;

namespace Amphora.Tenancy.Tests;

public sealed class RulerActionsTests
{
    [Theory]
    [InlineData("/workspaces/ws-1/api/v1/rules", null, "aps:ListRules")]
    [InlineData("/workspaces/ws-1/api/v1/alerts", null, "aps:ListAlerts")]
    [InlineData("/prometheus/api/v1/rules", "ws-1", "aps:ListRules")]
    [InlineData("/prometheus/api/v1/alerts", "ws-1", "aps:ListAlerts")]
    public void The_rules_and_alerts_APIs_need_AMPs_list_actions_on_their_workspace(string path, string? orgId, string action)
    {
        var access = RequestActions.Resolve("GET", path, orgId);
        Assert.Equal((ApiPlane.Query, action, "ws-1"), (access.Plane, access.Action, access.Workspace));
        Assert.Contains(action, ApsActions.Known);
    }

    [Fact]
    public void A_path_below_rules_is_no_action_so_only_an_admin_key_reaches_it() =>
        Assert.Null(RequestActions.Resolve("GET", "/workspaces/ws-1/api/v1/rules/x", null).Action);
}
