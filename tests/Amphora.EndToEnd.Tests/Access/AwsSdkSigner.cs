using Amazon.Runtime;
using Amazon.Runtime.Internal;
using Amazon.Runtime.Internal.Auth;

namespace Amphora.EndToEnd.Tests.Access;

/// <summary>
/// Signs HTTP requests with the AWS SDK's own SigV4 signer (AWSSDK.Core), an implementation independent of Amphora's, for
/// service <c>aps</c>. Debian's Prometheus 2.42 is built without the AWS SDK and sends its <c>sigv4</c> remote writes
/// unsigned, so the e2e tests sign with this instead.
/// </summary>
public static class AwsSdkSigner
{
    public static void Sign(HttpRequestMessage message, byte[] body, Key key, string region)
    {
        var uri = message.RequestUri!;
        var request = new DefaultRequest(new UnnamedRequest(), "aps")
        {
            HttpMethod = message.Method.Method,
            Endpoint = new Uri(uri.GetLeftPart(UriPartial.Authority)),
            ResourcePath = uri.AbsolutePath,
            Content = body,
            AuthenticationRegion = region,
        };
        foreach (var pair in System.Web.HttpUtility.ParseQueryString(uri.Query) is var q ? q.AllKeys.Where(k => k is not null).Select(k => (k!, q[k]!)) : [])
            request.Parameters[pair.Item1] = pair.Item2;
        foreach (var h in message.Content?.Headers ?? Enumerable.Empty<KeyValuePair<string, IEnumerable<string>>>())
            request.Headers[h.Key] = string.Join(",", h.Value);
        var config = new SigningConfig { AuthenticationRegion = region, AuthenticationServiceName = "aps", ServiceURL = request.Endpoint.ToString() };
        var result = new AWS4Signer().SignRequest(request, config, null, key.Id, key.Secret);
        message.Headers.TryAddWithoutValidation("Authorization", result.ForAuthorizationHeader);
        foreach (var (name, value) in request.Headers)
        {
            if (name.Equals("host", StringComparison.OrdinalIgnoreCase) || message.Content?.Headers.Contains(name) == true) continue;
            message.Headers.TryAddWithoutValidation(name, value);
        }
    }

    private sealed class UnnamedRequest : AmazonWebServiceRequest;

    private sealed class SigningConfig : ClientConfig
    {
        public SigningConfig() : base(null!) { }
        public override string RegionEndpointServiceName => "aps";
        public override string ServiceVersion => "2020-08-01";
        public override string UserAgent => "amphora-e2e";
        public override Amazon.Runtime.Endpoints.Endpoint DetermineServiceOperationEndpoint(
            Amazon.Runtime.Endpoints.ServiceOperationEndpointParameters parameters) => new(ServiceURL);
    }
}
