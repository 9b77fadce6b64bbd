using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Reasoner.Models.Backends;
using Reasoner.Models.Backends.OpenAi;

namespace Reasoner.Cli.Serving;

public sealed record ModelServerOptions
{
    /// <summary>An IP address, or <c>localhost</c>. Loopback unless asked otherwise: the server has no authentication.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>0 picks a free port (see <see cref="ModelServer.BaseUrl"/>).</summary>
    public int Port { get; init; } = 8000;

    /// <summary>The model name in answers and in <c>/v1/models</c>; the backend's model id when null.</summary>
    public string? ServedModelName { get; init; }

    /// <summary>How long a stop waits for requests in flight to finish.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// Serves any <see cref="ILanguageModel"/> over the OpenAI-compatible completions API on Kestrel:
/// <c>POST /v1/completions</c>, <c>GET /v1/models</c>, <c>GET /health</c>. The server does not own the model.
/// </summary>
public sealed class ModelServer : IAsyncDisposable
{
    readonly WebApplication _app;

    ModelServer(WebApplication app, Uri baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    /// <summary>Where it listens, with the port it actually bound.</summary>
    public Uri BaseUrl { get; }

    public static async Task<ModelServer> StartAsync(ILanguageModel model, ModelServerOptions options, ILoggerFactory? loggers = null, CancellationToken cancel = default)
    {
        var address = options.Host == "localhost" ? IPAddress.Loopback
            : IPAddress.TryParse(options.Host, out var ip) ? ip
            : throw new ArgumentException($"--host must be an IP address or localhost, not '{options.Host}'");
        var servedName = options.ServedModelName ?? model.ModelId;
        var log = (loggers ?? NullLoggerFactory.Instance).CreateLogger("serve-model");

        // The empty builder reads no configuration files or ASPNETCORE_* variables: what it serves is only what it is given.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.Listen(address, options.Port));
        builder.Services.AddRoutingCore();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = options.ShutdownTimeout);
        var app = builder.Build();

        var completions = new CompletionsEndpoint(model, servedName, log);
        var models = new ModelListBody { Data = [new ModelCardBody { Id = servedName, Created = DateTimeOffset.UtcNow.ToUnixTimeSeconds() }] };
        app.MapPost("/v1/completions", completions.HandleAsync);
        app.MapGet("/v1/models", http => http.Response.WriteAsJsonAsync(models, CompletionsJsonContext.Default.ModelListBody, cancellationToken: http.RequestAborted));
        app.MapGet("/health", http => http.Response.WriteAsJsonAsync(new HealthBody("ok"), CompletionsJsonContext.Default.HealthBody, cancellationToken: http.RequestAborted));

        await app.StartAsync(cancel);
        var bound = new Uri(app.Urls.First());
        return new ModelServer(app, new Uri($"http://{(address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) ? "127.0.0.1" : bound.Host)}:{bound.Port}"));
    }

    /// <summary>Runs until <paramref name="stop"/> fires (Ctrl-C, SIGTERM), then stops, letting requests in flight finish.</summary>
    public Task WaitForShutdownAsync(CancellationToken stop) => _app.WaitForShutdownAsync(stop);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
