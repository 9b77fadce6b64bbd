using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Reasoner.Cli.Viewing;
using Reasoner.Core.Prompts;

namespace Reasoner.Tests.Viewing;

/// <summary>The viewer's HTTP surface: its API, its assets, and what it refuses to serve.</summary>
public sealed class RunViewerHttpTests : IAsyncLifetime
{
    readonly string root = Directory.CreateTempSubdirectory("viewer-http-").FullName;
    RunViewerServer server = null!;
    readonly HttpClient http = new();

    public async Task InitializeAsync()
    {
        var run = ViewerRuns.Write(root);
        server = await RunViewerServer.StartAsync(run, new PromptLibrary(PromptLibrary.FindDefaultRoot()), []);
    }

    public async Task DisposeAsync()
    {
        await server.DisposeAsync();
        http.Dispose();
        Directory.Delete(root, recursive: true);
    }

    [Fact]
    public void It_binds_loopback_by_default() => Assert.Equal("127.0.0.1", server.BaseUrl.Host);

    [Fact]
    public async Task The_api_lists_the_trees_and_serves_each_one()
    {
        using var run = JsonDocument.Parse(await http.GetStringAsync(new Uri(server.BaseUrl, "api/run")));
        var trees = run.RootElement.GetProperty("trees");
        Assert.Equal(3, trees.GetArrayLength());
        Assert.Equal("failed", trees[2].GetProperty("status").GetString());
        Assert.Equal(["curves.png"], run.RootElement.GetProperty("plots").EnumerateArray().Select(p => p.GetString()));

        using var tree = JsonDocument.Parse(await http.GetStringAsync(new Uri(server.BaseUrl, "api/trees/0")));
        var nodes = tree.RootElement.GetProperty("nodes");
        Assert.Equal(ViewerRuns.HostileStep, nodes[nodes.GetArrayLength() - 1].GetProperty("text").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(new Uri(server.BaseUrl, "api/trees/3"))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync(new Uri(server.BaseUrl, "api/trees/0/scores?model=0"))).StatusCode);
    }

    [Fact]
    public async Task Pages_and_assets_come_from_the_executable()
    {
        var page = await http.GetStringAsync(new Uri(server.BaseUrl, "tree/1"));
        Assert.Contains("src=\"/assets/tree.js\"", page);
        var script = await http.GetAsync(new Uri(server.BaseUrl, "assets/tree.js"));
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("http://", await script.Content.ReadAsStringAsync()); // nothing from a CDN
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(new Uri(server.BaseUrl, "assets/missing.js"))).StatusCode);
        Assert.Equal(4, (await http.GetByteArrayAsync(new Uri(server.BaseUrl, "files/curves.png"))).Length);
    }

    [Theory]
    [InlineData("/files/../secret.txt")]
    [InlineData("/files/%2e%2e/secret.txt")]
    [InlineData("/files/%2E%2E%2Fsecret.txt")]
    [InlineData("/files/..%2fsecret.txt")]
    [InlineData("/files/trees/%2e%2e/%2e%2e/secret.txt")]
    [InlineData("/files//etc/passwd")]
    [InlineData("/files/%2Fetc%2Fpasswd")]
    [InlineData("/assets/..%2f..%2fsecret.txt")]
    [InlineData("/../secret.txt")]
    public async Task Nothing_outside_the_run_folder_is_served(string path)
    {
        var (status, body) = await RawGetAsync(server.BaseUrl, path.Replace("/etc/passwd", "/" + Path.Combine(root, "secret.txt").TrimStart('/'), StringComparison.Ordinal)
            .Replace("%2Fetc%2Fpasswd", Uri.EscapeDataString(Path.Combine(root, "secret.txt")), StringComparison.Ordinal));
        Assert.NotEqual(200, status);
        Assert.DoesNotContain("not for the viewer", body);
    }

    [Fact]
    public async Task Serve_mounts_the_same_pages_under_runs()
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Services.AddRoutingCore();
        await using var app = builder.Build();
        using var viewer = new RunViewer(Path.Combine(root, "run"), new PromptLibrary(PromptLibrary.FindDefaultRoot()));
        viewer.Map(app, "/runs");
        await app.StartAsync();
        var baseUrl = new Uri(app.Urls.First() + "/");
        Assert.Contains("src=\"/runs/assets/run.js\"", await http.GetStringAsync(new Uri(baseUrl, "runs/")));
        using var run = JsonDocument.Parse(await http.GetStringAsync(new Uri(baseUrl, "runs/api/run")));
        Assert.Equal(3, run.RootElement.GetProperty("trees").GetArrayLength());
        await app.StopAsync();
    }

    /// <summary>A GET with the path sent exactly as written (HttpClient would resolve the dot segments itself).</summary>
    static async Task<(int Status, string Body)> RawGetAsync(Uri baseUrl, string path)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(baseUrl.Host, baseUrl.Port);
        await using var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: {baseUrl.Host}:{baseUrl.Port}\r\nConnection: close\r\n\r\n"));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var response = await reader.ReadToEndAsync();
        var status = int.Parse(response.Split(' ', 3)[1]);
        return (status, response);
    }
}
