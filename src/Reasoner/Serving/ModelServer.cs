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
using Reasoner.Models.Scoring;

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

    /// <summary>Requests to <c>/v1/*</c> must carry <c>Authorization: Bearer</c> this key (vLLM's <c>--api-key</c>); null: no key.</summary>
    public string? ApiKey { get; init; }

    /// <summary>Most completions one request may ask for (<c>n</c>).</summary>
    public int MaxN { get; init; } = 64;

    /// <summary>Most requests in the server at once, running or waiting for the model; more answer 429 with <c>Retry-After</c>.</summary>
    public int MaxQueuedRequests { get; init; } = 256;

    /// <summary>Largest request body; a larger one answers 413.</summary>
    public long MaxBodyBytes { get; init; } = 4L << 20;

}

/// <summary>
/// Serves any <see cref="ILanguageModel"/> over the OpenAI-compatible completions API on Kestrel, and a step scorer (a
/// verifier, a value head) over <c>POST /v1/score</c>: <c>POST /v1/completions</c>, <c>POST /v1/score</c>,
/// <c>GET /v1/models</c> (a scorer's card says so, and which prompt it reads), <c>GET /health</c>. Either may be left out;
/// its endpoint then answers 404 saying what the server does serve. The server owns neither.
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

    public static Task<ModelServer> StartAsync(ILanguageModel model, ModelServerOptions options, ILoggerFactory? loggers = null, CancellationToken cancel = default) =>
        StartAsync(model, null, options, loggers, cancel);

    public static async Task<ModelServer> StartAsync(ILanguageModel? model, IStepScoringModel? scorer, ModelServerOptions options, ILoggerFactory? loggers = null,
        CancellationToken cancel = default)
    {
        if (model is null && scorer is null) throw new ArgumentException("serve a language model, a step scorer or both");
        var address = ListenAddress.Parse(options.Host);
        var servedName = options.ServedModelName ?? model?.ModelId ?? scorer!.Id;
        // With both, the name is the language model's and the scorer keeps its own id.
        var scorerName = model is null ? servedName : scorer?.Id;
        var log = (loggers ?? NullLoggerFactory.Instance).CreateLogger("serve-model");

        // The empty builder reads no configuration files or ASPNETCORE_* variables: what it serves is only what it is given.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
        {
            k.Listen(address, options.Port);
            k.Limits.MaxRequestBodySize = options.MaxBodyBytes;
        });
        builder.Services.AddRoutingCore();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = options.ShutdownTimeout);
        var app = builder.Build();

        if (options.ApiKey is null && !IPAddress.IsLoopback(address))
            log.LogWarning("serving on {Host} without --api-key: anyone who reaches this address can use the model", options.Host);
        var limits = new RequestLimits(options);
        app.Use(limits.HandleAsync);

        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var cards = new List<ModelCardBody>();
        if (model is not null)
        {
            cards.Add(new ModelCardBody { Id = servedName, Created = created, MaxModelLen = (model as IContextWindow)?.ContextLength });
            app.MapPost("/v1/completions", new CompletionsEndpoint(model, servedName, log, options.MaxN).HandleAsync);
        }
        else app.MapPost("/v1/completions", http => NotServed(http, $"this server serves the step scorer {scorerName} only: POST /v1/score"));
        if (scorer is not null)
        {
            cards.Add(new ModelCardBody { Id = scorerName!, Created = created, Scorer = new ScorerCardBody { ReadsBarePrompt = scorer.ReadsBarePrompt } });
            app.MapPost("/v1/score", new ScoringEndpoint(scorer, scorerName!, log).HandleAsync);
        }
        else app.MapPost("/v1/score", http => NotServed(http, "this server serves no step scorer: start serve-model with --scorer DIR"));
        var models = new ModelListBody { Data = cards };
        app.MapGet("/v1/models", http => http.Response.WriteAsJsonAsync(models, CompletionsJsonContext.Default.ModelListBody, cancellationToken: http.RequestAborted));
        app.MapGet("/health", http => http.Response.WriteAsJsonAsync(new HealthBody("ok"), CompletionsJsonContext.Default.HealthBody, cancellationToken: http.RequestAborted));

        await app.StartAsync(cancel);
        var bound = new Uri(app.Urls.First());
        return new ModelServer(app, new Uri(ListenAddress.Reachable(address, bound)));
    }

    static Task NotServed(HttpContext http, string message) => ApiErrors.WriteAsync(http, StatusCodes.Status404NotFound, "not_found_error", null, message);

    /// <summary>Runs until <paramref name="stop"/> fires (Ctrl-C, SIGTERM), then stops, letting requests in flight finish.</summary>
    public Task WaitForShutdownAsync(CancellationToken stop) => _app.WaitForShutdownAsync(stop);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
