using Reasoner.Cli;
using Reasoner.Cli.Serving;
using Reasoner.Models.Backends;
using Reasoner.Models.Checkpoints;
using Reasoner.Models.Generation;
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
        await ScriptedHttpServer.WaitUntilHealthyAsync(proxyUrl, run);
        using var client = new OpenAiCompletionsClient(new OpenAiCompletionsOptions { BaseUrl = proxyUrl, MaxRetries = 0 });

        var completions = await client.CompleteAsync(new CompletionRequest("Q", N: 2) { Seed = 3 });
        var scored = Assert.Single(await client.ScoreAsync("Q: 1 +", [" 1 = 2"]));
        using var http = new HttpClient();
        var models = await http.GetStringAsync(new Uri(proxyUrl, "/v1/models"));
        await stop.CancelAsync();
        var exitCode = await run.WaitAsync(TimeSpan.FromMinutes(2));

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
        Assert.StartsWith("error: no backend for 'nonsense': expected builtin, a model folder", r.Err);
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
    public void CheckpointsRunOnTheInProcessEngineAndMissingFilesAreNamed()
    {
        using (var builtin = LanguageModelFactory.Create("builtin"))
            Assert.Equal(BuiltinModel.Locate(), Assert.IsType<TorchEngine>(builtin).ModelId);
        using (var folder = LanguageModelFactory.Create(BuiltinModel.Locate()))
            Assert.IsType<TorchEngine>(folder);

        Assert.Contains("/no/such/model.gguf", Assert.Throws<FileNotFoundException>(() => LanguageModelFactory.Create("/no/such/model.gguf")).Message);
    }

    [Fact]
    public async Task ServeModelServesTheBuiltinModelByDefaultAndItsAnswersMatchTheEngine()
    {
        var port = ScriptedHttpServer.FreePort();
        using var stop = new CancellationTokenSource();
        var run = ReasonerApp.RunAsync(["serve-model", "--port", $"{port}"], new StringWriter(), new StringWriter(), cancel: stop.Token);
        await ScriptedHttpServer.WaitUntilHealthyAsync(new Uri($"http://127.0.0.1:{port}"), run);
        using var client = new OpenAiCompletionsClient(new OpenAiCompletionsOptions { BaseUrl = new Uri($"http://127.0.0.1:{port}"), MaxRetries = 0 });
        const string prompt = "Question: Ann has 4 apples. She buys 3 more apples. How many apples does Ann have now?\nAnswer:\n";
        var request = new CompletionRequest(prompt, N: 3, MaxTokens: 24) { Stop = ["\n"], Seed = 5, Temperature = 1.0 };

        var served = await client.CompleteAsync(request);
        var scored = Assert.Single(await client.ScoreAsync(prompt, [served[0].Text]));
        await stop.CancelAsync();
        Assert.Equal(0, await run.WaitAsync(TimeSpan.FromMinutes(2)));

        // The same request to the engine in this process: the server adds nothing and loses nothing.
        using var engine = TorchEngine.Load(BuiltinModel.Locate());
        var local = await engine.CompleteAsync(request);
        Assert.Equal(local.Select(c => c.Text), served.Select(c => c.Text));
        // Scoring covers the step's text; the sampled tokens also hold the newline that stopped it.
        Assert.Equal(local[0].TokenLogProbs.Take(scored.TokenLogProbs.Count).Sum(), scored.LogProb, 1e-3);
    }
}
