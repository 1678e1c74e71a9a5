using Amphora.Operator.Api;
using Amphora.Operator.Kube;

namespace Amphora.Operator.Controllers;

/// <summary>
/// When a Workspace changes (becomes ready, is deleted), the resources referencing it are queued again at once rather than
/// waiting out their backoff.
/// </summary>
public sealed class DependentsIndex
{
    private readonly List<Action<string, string>> _notify = [];

    public void Add<T>(Controller<T> controller) where T : class, IWorkspaceDependent =>
        _notify.Add((ns, workspace) =>
        {
            foreach (var (key, item) in controller.Watcher.Cache)
                if (item.Metadata.NamespaceProperty == ns && item.WorkspaceName == workspace) controller.Queue.Add(key);
        });

    public void WorkspaceChanged(string ns, string workspace)
    {
        foreach (var n in _notify) n(ns, workspace);
    }
}
