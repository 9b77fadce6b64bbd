using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Reasoner.Tests.Http;

/// <summary>
/// A loopback Kestrel endpoint whose every request goes to one handler, told which call (1, 2, …) it is: for
/// servers that fail, stall or answer in another server's dialect. <c>GET /v1/models</c> answers 404, uncounted.
/// </summary>
sealed class ScriptedHttpServer : IAsyncDisposable
{
    readonly WebApplication _app;
    int _calls;

    ScriptedHttpServer(WebApplication app) => _app = app;

    public Uri BaseUrl { get; private set; } = null!;

    public int Calls => Volatile.Read(ref _calls);

    public static async Task<ScriptedHttpServer> StartAsync(Func<HttpContext, int, Task> handler)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(1));
        var server = new ScriptedHttpServer(builder.Build());
        // The client asks GET /v1/models once for the context window; these scripts play servers that do not say (404), uncounted.
        server._app.Run(http => http.Request.Path == "/v1/models" && HttpMethods.IsGet(http.Request.Method)
            ? Task.FromResult(http.Response.StatusCode = StatusCodes.Status404NotFound)
            : handler(http, Interlocked.Increment(ref server._calls)));
        await server._app.StartAsync();
        server.BaseUrl = new Uri(server._app.Urls.First());
        return server;
    }

    /// <summary>A loopback port with nothing listening on it (bound, then released).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// Waits until a server started in the background answers <c>GET /health</c> (its readiness signal), polling; fails after
    /// <paramref name="limit"/> (default two minutes: a loaded machine loads a model slowly) or when <paramref name="run"/>, the
    /// server's own task, ends first.
    /// </summary>
    public static async Task WaitUntilHealthyAsync(Uri server, Task run, TimeSpan? limit = null)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var deadline = DateTime.UtcNow + (limit ?? TimeSpan.FromMinutes(2));
        while (true)
        {
            if (run.IsCompleted) throw new InvalidOperationException($"the server at {server} ended before it was ready (exit {await (run as Task<int> ?? Task.FromResult(-1))})");
            try
            {
                using var answer = await http.GetAsync(new Uri(server, "/health"));
                if (answer.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) { } // not listening yet
            catch (TaskCanceledException) { }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{server} did not answer /health within {limit ?? TimeSpan.FromMinutes(2)}");
            await Task.Delay(100);
        }
    }

    /// <summary>A completions answer with <paramref name="n"/> choices reading "ok".</summary>
    public static Task OkAsync(HttpContext http, int n = 1)
    {
        var choices = string.Join(',', Enumerable.Range(0, n).Select(i => $$"""{"index":{{i}},"text":"ok","finish_reason":"length"}"""));
        http.Response.ContentType = "application/json";
        return http.Response.WriteAsync($$"""{"id":"cmpl-1","object":"text_completion","model":"m","choices":[{{choices}}]}""");
    }

    public static Task ErrorAsync(HttpContext http, int status, string message)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        return http.Response.WriteAsync($$$"""{"error":{"message":"{{{message}}}","type":"server_error","code":{{{status}}}}}""");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
