using Amphora.Model;
using Xunit;

namespace Amphora.Core.Tests.Model;

public sealed class WorkspaceIdsTests
{
    [Theory]
    [InlineData("default")]
    [InlineData("ws-0f8a5c3e-2b1d-4c6e-9a7b-123456789abc")]
    [InlineData("team_a.prod-1")]
    [InlineData("...")]
    [InlineData(".hidden")]
    [InlineData("a")]
    public void Ids_the_service_creates_and_mimir_style_tenant_ids_are_valid(string id)
    {
        Assert.Null(WorkspaceIds.Validate(id));
        Assert.Equal(id, WorkspaceIds.Require(id));
    }

    [Fact]
    public void The_longest_valid_id_has_150_characters()
    {
        Assert.Null(WorkspaceIds.Validate(new string('a', 150)));
        var error = WorkspaceIds.Validate(new string('a', 151));
        Assert.Equal(WorkspaceIdRule.Length, error?.Rule);
        Assert.Contains("1 to 150 characters", error!.Message);
        Assert.Equal(WorkspaceIdRule.Length, WorkspaceIds.Validate("")?.Rule);
        Assert.Equal(WorkspaceIdRule.Length, WorkspaceIds.Validate(null)?.Rule);
    }

    [Theory]
    [InlineData("../../escape", '/')]
    [InlineData("/absolute/path", '/')]
    [InlineData("a/b", '/')]
    [InlineData("..\\escape", '\\')]
    [InlineData("C:", ':')]
    [InlineData("nul\0byte", '\0')]
    [InlineData("tab\there", '\t')]
    [InlineData("new\nline", '\n')]
    [InlineData("space here", ' ')]
    [InlineData("pct%2F", '%')]
    [InlineData("ünïcode", 'ü')]
    [InlineData("a|b", '|')]
    public void A_separator_a_control_character_or_anything_outside_the_alphabet_is_refused_naming_it(string id, char bad)
    {
        var error = WorkspaceIds.Validate(id);
        Assert.NotNull(error);
        Assert.Equal(WorkspaceIdRule.Character, error.Rule);
        Assert.Contains($"at position {id.IndexOf(bad)}", error.Message);
        Assert.Contains(WorkspaceIds.AllowedText, error.Message);
        Assert.DoesNotContain('\0', error.Message); // printable: control characters are escaped
        Assert.DoesNotContain('\n', error.Message);
        var thrown = Assert.Throws<InvalidWorkspaceIdException>(() => WorkspaceIds.Require(id));
        Assert.Equal(error, thrown.Error);
    }

    [Theory]
    [InlineData(".")]
    [InlineData("..")]
    public void Dot_and_dot_dot_are_refused_as_directory_names(string id) =>
        Assert.Equal(WorkspaceIdRule.DotName, WorkspaceIds.Validate(id)?.Rule);

    [Theory]
    [InlineData("tenancy")]
    [InlineData("Tenancy")]
    [InlineData("TENANCY")]
    public void The_name_of_the_tenancy_state_in_the_bucket_is_reserved_so_it_is_never_taken_for_a_workspace(string id)
    {
        var error = WorkspaceIds.Validate(id);
        Assert.Equal(WorkspaceIdRule.Reserved, error?.Rule);
        Assert.Contains("reserved", error!.Message);
        Assert.Throws<InvalidWorkspaceIdException>(() => WorkspaceIds.Require(id));
        Assert.Contains(WorkspaceIds.Tenancy, WorkspaceIds.Reserved);
        Assert.Null(WorkspaceIds.Validate("tenancy-a"));
        Assert.Null(WorkspaceIds.Validate("my.tenancy"));
    }

    [Fact]
    public void A_valid_id_is_a_direct_child_of_the_root_and_an_invalid_one_never_becomes_a_path()
    {
        string root = Path.Combine(Path.GetTempPath(), "root-" + Guid.NewGuid().ToString("N"));
        Assert.Equal(Path.Combine(root, "ws-1"), WorkspaceIds.DirectoryUnder(root, "ws-1"));
        Assert.Equal(Path.Combine(root, "ws-1"), WorkspaceIds.DirectoryUnder(root + Path.DirectorySeparatorChar, "ws-1"));
        foreach (var id in new[] { "../x", "..", ".", "/etc", "", "a\0" })
            Assert.Throws<InvalidWorkspaceIdException>(() => WorkspaceIds.DirectoryUnder(root, id));
    }
}
