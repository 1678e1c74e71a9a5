using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Amphora.EndToEnd.Tests.Harness;
using Amphora.Operator.Api;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Amphora.Operator.Tests.Harness;

/// <summary>Creating, reading and waiting on Amphora's custom resources through the real API server.</summary>
public static class Resources
{
    public static JsonObject Workspace(string name, JsonObject spec) => Object("Workspace", name, spec);

    public static JsonObject Object(string kind, string name, JsonObject spec) => new()
    {
        ["apiVersion"] = AmphoraApi.ApiVersion,
        ["kind"] = kind,
        ["metadata"] = new JsonObject { ["name"] = name },
        ["spec"] = spec,
    };

    public static async Task CreateAsync(this IKubernetes client, string ns, string plural, JsonObject body) =>
        await client.CustomObjects.CreateNamespacedCustomObjectAsync(JsonDocument.Parse(body.ToJsonString()).RootElement,
            AmphoraApi.Group, AmphoraApi.Version, ns, plural);

    /// <summary>The API server's refusal of a create, or null when it accepted it.</summary>
    public static async Task<string?> CreateRefusedAsync(this IKubernetes client, string ns, string plural, JsonObject body)
    {
        try
        {
            await client.CreateAsync(ns, plural, body);
            return null;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.UnprocessableEntity or HttpStatusCode.BadRequest)
        {
            return e.Response.Content;
        }
    }

    public static async Task MergePatchAsync(this IKubernetes client, string ns, string plural, string name, JsonObject patch) =>
        await client.CustomObjects.PatchNamespacedCustomObjectAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch),
            AmphoraApi.Group, AmphoraApi.Version, ns, plural, name);

    public static async Task<T?> GetAsync<T>(this IKubernetes client, string ns, string plural, string name) where T : class
    {
        try
        {
            return await client.CustomObjects.GetNamespacedCustomObjectAsync<T>(AmphoraApi.Group, AmphoraApi.Version, ns, plural, name);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>Waits until the resource's condition has the wanted status; returns the resource.</summary>
    public static async Task<T> WaitConditionAsync<T>(this IKubernetes client, string ns, string plural, string name, string type,
        string status = "True", TimeSpan? timeout = null) where T : class, IAmphoraResource
    {
        T? last = null;
        await Eventually.HoldsAsync(async () =>
        {
            last = await client.GetAsync<T>(ns, plural, name);
            return last?.BaseStatus?.Conditions.Find(c => c.Type == type)?.Status == status;
        }, () => $"{plural}/{name} to have {type}={status}; status now: {JsonSerializer.Serialize(last?.BaseStatus)}", timeout ?? TimeSpan.FromSeconds(60));
        return last!;
    }

    public static Condition? ConditionOf(IAmphoraResource r, string type) => r.BaseStatus?.Conditions.Find(c => c.Type == type);

    public static async Task<List<Corev1Event>> EventsAsync(this IKubernetes client, string ns, string name) =>
        (await client.CoreV1.ListNamespacedEventAsync(ns)).Items.Where(e => e.InvolvedObject.Name == name).ToList();
}
