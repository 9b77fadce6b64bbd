using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Reasoner.Cli.Serving;

/// <summary>
/// What <c>serve-model</c> checks before an endpoint runs: the API key on <c>/v1/*</c> (401 without it), and a bound on
/// requests in the server at once (429 with <c>Retry-After</c> past it), so that a crowd of clients queues at their
/// side, where their retries wait, rather than in the server's memory.
/// </summary>
sealed class RequestLimits(ModelServerOptions options)
{
    readonly byte[]? key = options.ApiKey is null ? null : Encoding.UTF8.GetBytes("Bearer " + options.ApiKey);
    int inServer;

    public async Task HandleAsync(HttpContext http, RequestDelegate next)
    {
        if (!http.Request.Path.StartsWithSegments("/v1"))
        {
            await next(http);
            return;
        }
        if (key is not null && !Authorized(http.Request.Headers.Authorization.ToString()))
        {
            http.Response.Headers.WWWAuthenticate = "Bearer";
            await ApiErrors.WriteAsync(http, StatusCodes.Status401Unauthorized, "authentication_error", null,
                "missing or wrong API key: send Authorization: Bearer KEY, the key serve-model was started with (--api-key)");
            return;
        }
        if (Interlocked.Increment(ref inServer) > options.MaxQueuedRequests)
        {
            Interlocked.Decrement(ref inServer);
            http.Response.Headers.RetryAfter = "1";
            await ApiErrors.WriteAsync(http, StatusCodes.Status429TooManyRequests, "rate_limit_error", null,
                $"the server holds {options.MaxQueuedRequests} requests already (--max-queued): retry after a second");
            return;
        }
        try { await next(http); }
        finally { Interlocked.Decrement(ref inServer); }
    }

    bool Authorized(string header) => CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header), key);
}
