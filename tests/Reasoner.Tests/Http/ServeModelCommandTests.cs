using Reasoner.Cli;
using Reasoner.Cli.Serving;
using Reasoner.Models.Backends;
using Reasoner.Tests.Cli;

namespace Reasoner.Tests.Http;

/// <summary>The serve-model command, run in-process, and the backend factory it builds its model with.</summary>
public sealed class ServeModelCommandTests
{
    [Fact]
    public async Task ServeModelProxiesAnotherServerUntilStopped()
    {
        var fake = new ScriptedLanguageModel();
        await using var upstream = await ModelServer.StartAsync(fake, new ModelServerOptions { Port = 0 });
        var port = ScriptedHttpServer.FreePort();
        using var stop = new CancellationTokenSource();
        var stderr = new StringWriter();
        var run = ReasonerApp.RunAsync(["serve-model", "--model", $"scripted@{upstream.BaseUrl}", "--port", $"{port}"], new StringWriter(), stderr, cancel: stop.Token);
        var proxyUrl = new Uri($"http://127.0.0.1:{port}");
        using var client = new OpenAiCompletionsClient(new OpenAiCompletionsOptions
        {
            BaseUrl = proxyUrl,
            MaxRetries = 20, // the proxy is starting: connection refused until it listens
            RetryDelay = TimeSpan.FromMilliseconds(50),
            MaxRetryDelay = TimeSpan.FromMilliseconds(200),
        });

        var completions = await client.CompleteAsync(new CompletionRequest("Q", N: 2) { Seed = 3 });
        var scored = Assert.Single(await client.ScoreAsync("Q: 1 +", [" 1 = 2"]));
        using var http = new HttpClient();
        var models = await http.GetStringAsync(new Uri(proxyUrl, "/v1/models"));
        await stop.CancelAsync();
        var exitCode = await run.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal([" step 0 seed 3", " step 1 seed 3"], completions.Select(c => c.Text));
        Assert.Equal([" 1", " =", " 2"], scored.TokenTexts);
        Assert.Equal([-0.2, -0.2, -0.2], scored.TokenLogProbs);
        Assert.Contains($"\"id\":\"scripted@{upstream.BaseUrl.ToString().TrimEnd('/')}\"", models);
        Assert.Equal(0, exitCode);
    }

    [Fact]
    public async Task AnUnknownModelSpecIsABadInput()
    {
        var r = await CliRunner.Run("serve-model", "--model", "nonsense");

        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("error: no backend for 'nonsense': expected http(s)://HOST:PORT", r.Err);
    }

    [Theory]
    [InlineData("http://127.0.0.1:8000", "http://127.0.0.1:8000")]
    [InlineData("http://127.0.0.1:8000/v1/", "http://127.0.0.1:8000")]
    [InlineData("Qwen/Qwen2.5-0.5B@http://127.0.0.1:8000", "Qwen/Qwen2.5-0.5B@http://127.0.0.1:8000")]
    public void AnHttpSpecMakesAClient(string spec, string modelId)
    {
        using var model = LanguageModelFactory.Create(spec);

        var client = Assert.IsType<OpenAiCompletionsClient>(model);
        Assert.Equal(modelId, client.ModelId);
        Assert.Equal("http://127.0.0.1:8000/v1/completions", client.CompletionsUrl.ToString());
    }

    [Fact]
    public void ACheckpointFolderHasNoBackendYet()
    {
        var e = Assert.Throws<ArgumentException>(() => LanguageModelFactory.Create(AppContext.BaseDirectory));

        Assert.StartsWith($"no backend for '{AppContext.BaseDirectory}' yet", e.Message);
    }
}
