using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Reasoner.Cli.Serving;
using Reasoner.Core.Prompts;
using static TorchSharp.torch;

namespace Reasoner.Cli.Viewing;

/// <summary><c>view RUN</c>'s web server: the run viewer at the root of a Kestrel app on loopback (unless told otherwise).</summary>
public sealed class RunViewerServer : IAsyncDisposable
{
    readonly WebApplication app;
    readonly RunViewer viewer;

    RunViewerServer(WebApplication app, RunViewer viewer, Uri baseUrl)
    {
        this.app = app;
        this.viewer = viewer;
        BaseUrl = baseUrl;
    }

    /// <summary>Where the run page is, with the port actually bound.</summary>
    public Uri BaseUrl { get; }

    /// <param name="host">An IP address or <c>localhost</c>; 127.0.0.1 unless the user asks for another.</param>
    /// <param name="port">0 picks a free port.</param>
    public static async Task<RunViewerServer> StartAsync(string runDirectory, PromptLibrary prompts, IReadOnlyList<string> models, string host = "127.0.0.1",
        int port = 0, Device? device = null, CancellationToken cancel = default)
    {
        if (!Directory.Exists(runDirectory)) throw new DirectoryNotFoundException($"run folder not found: {runDirectory}");
        var address = ListenAddress.Parse(host);
        var viewer = new RunViewer(runDirectory, prompts, models, device);
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.Listen(address, port));
        builder.Services.AddRoutingCore();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        var app = builder.Build();
        viewer.Map(app);
        await app.StartAsync(cancel);
        var bound = new Uri(app.Urls.First());
        return new RunViewerServer(app, viewer, new Uri(ListenAddress.Reachable(address, bound) + "/"));
    }

    public Task WaitForShutdownAsync(CancellationToken stop) => app.WaitForShutdownAsync(stop);

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
        viewer.Dispose();
    }
}
