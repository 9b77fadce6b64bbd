using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Reasoner.Cli.Serving;
using Reasoner.Models.Backends;
using Reasoner.Models.Checkpoints;
using Reasoner.Models.Generation;
using Reasoner.Tests.Models;

namespace Reasoner.Tests.Http;

/// <summary>serve-model under bad input and load: limits answer 400, 401, 413 or 429 with what to change, never 500; a client that leaves cancels its generation.</summary>
public sealed class ServerLimitsTests : IDisposable
{
    readonly TestData.TempDirectory checkpoint = new();

    public ServerLimitsTests()
    {
        // A context of 96 tokens, so that a test can overflow it.
        using var model = TinyModels.Create(TinyModels.Config(vocabSize: TinyModels.ArithmeticTokenizer.VocabSize) with { MaxPositionEmbeddings = 96 }, seed: 5);
        CheckpointWriter.Save(model, TinyModels.ArithmeticTokenizer, checkpoint.Path);
    }

    public void Dispose() => checkpoint.Dispose();

    /// <summary>A model that holds every completion until released, and says whether its caller cancelled.</summary>
    sealed class HeldModel : ILanguageModel
    {
        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Cancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string ModelId => "held";

        public async Task<IReadOnlyList<Completion>> CompleteAsync(CompletionRequest request, CancellationToken cancel = default)
        {
            Started.TrySetResult();
            try { await Release.Task.WaitAsync(cancel); }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                Cancelled.TrySetResult();
                throw;
            }
            return [.. Enumerable.Range(0, request.N).Select(_ => new Completion(" ok", [1], [-0.1], FinishReason.Stop))];
        }

        public Task<IReadOnlyList<ScoredContinuation>> ScoreAsync(string prompt, IReadOnlyList<string> continuations, CancellationToken cancel = default) =>
            Task.FromResult<IReadOnlyList<ScoredContinuation>>([.. continuations.Select(c => new ScoredContinuation(c, [1], [-0.1]))]);

        public void Dispose() { }
    }

    static async Task<(HttpStatusCode Status, JsonElement Error, HttpResponseMessage Response)> PostAsync(Uri server, string json, string? key = null)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(server, "/v1/completions")) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (key is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var body = JsonDocument.Parse(text).RootElement.Clone();
        return (response.StatusCode, body.TryGetProperty("error", out var e) ? e : body, response);
    }

    [Theory]
    [InlineData("""{"prompt": "1 + 1 =", "n": 100000}""", "n", "--max-n")]
    [InlineData("""{"prompt": "", "max_tokens": 4}""", "prompt", "empty")]
    [InlineData("""{"prompt": "1 + 1 =", "max_tokens": 100000000}""", "max_tokens", "maximum context length is 96 tokens")]
    public async Task Requests_past_a_limit_answer_400_naming_it(string json, string field, string says)
    {
        using var engine = TorchEngine.Load(checkpoint.Path);
        await using var server = await ModelServer.StartAsync(engine, new ModelServerOptions { Port = 0 });
        var (status, error, _) = await PostAsync(server.BaseUrl, json);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(field, error.GetProperty("param").GetString());
        Assert.Contains(says, error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task The_model_card_reports_the_context_and_the_client_keeps_within_it()
    {
        using var engine = TorchEngine.Load(checkpoint.Path);
        await using var server = await ModelServer.StartAsync(engine, new ModelServerOptions { Port = 0, ServedModelName = "tiny" });
        using var http = new HttpClient();
        var models = JsonDocument.Parse(await http.GetStringAsync(new Uri(server.BaseUrl, "/v1/models"))).RootElement;
        Assert.Equal(96, models.GetProperty("data")[0].GetProperty("max_model_len").GetInt32());

        // Asking for more than the context holds (the Monte Carlo scorer's 384 tokens): the client asks for what fits.
        using var client = new OpenAiCompletionsClient(new OpenAiCompletionsOptions { BaseUrl = server.BaseUrl, Model = "tiny", MaxRetries = 0 });
        var prompt = "12 + 35 = 47\n3 * 4 = 12\n";
        var completions = await client.CompleteAsync(new CompletionRequest(prompt, N: 2, MaxTokens: 384) { Seed = 1 });
        Assert.All(completions, c => Assert.True(c.TokenCount + engine.CountPromptTokens(prompt) <= 96));
    }

    [Fact]
    public async Task Best_first_roll_outs_through_the_server_keep_within_its_context()
    {
        // The Monte Carlo scorer asks for 384 tokens; the served model holds 256 in all, the bare prompt taking about 130.
        using var wider = new TestData.TempDirectory();
        using (var model = TinyModels.Create(TinyModels.Config(vocabSize: TinyModels.ArithmeticTokenizer.VocabSize) with { MaxPositionEmbeddings = 256 }, seed: 5))
            CheckpointWriter.Save(model, TinyModels.ArithmeticTokenizer, wider.Path);
        using var engine = TorchEngine.Load(wider.Path);
        await using var server = await ModelServer.StartAsync(engine, new ModelServerOptions { Port = 0 });
        var run = Path.Combine(wider.Path, "run");
        var r = await Cli.CliRunner.Run("generate", "--model", server.BaseUrl.ToString().TrimEnd('/'), "--algo", "best-first", "--problems", "2", "--workers", "1",
            "--iterations", "2", "--actions", "2", "--rollouts", "2", "--max-step-tokens", "8", "--depth-limit", "2", "--prompt", "bare", "--out", run);
        var trees = Core.Storage.TreeStore.Open(run).ReadAll(_ => { }).ToList();
        Assert.True(r.ExitCode == 0, string.Join("\n", trees.Select(t => t.Error)) + r.Err);
        Assert.Equal(2, trees.Count);
        Assert.All(trees, t => Assert.True(t.Status == Core.Trees.TreeStatus.Completed, t.Error));
        Assert.Contains(trees.SelectMany(t => t.Nodes), n => n.MonteCarloValue is not null);
    }

    [Fact]
    public async Task Without_the_api_key_v1_answers_401_and_health_stays_open()
    {
        using var model = new ScriptedLanguageModel();
        await using var server = await ModelServer.StartAsync(model, new ModelServerOptions { Port = 0, ApiKey = "s3cret" });
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(server.BaseUrl, """{"prompt": "x"}""")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(server.BaseUrl, """{"prompt": "x"}""", key: "wrong")).Status);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(server.BaseUrl, """{"prompt": "x"}""", key: "s3cret")).Status);
        using var http = new HttpClient();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(server.BaseUrl, "/health"))).StatusCode);

        // Reasoner's own client sends the key it is given.
        using var client = new OpenAiCompletionsClient(new OpenAiCompletionsOptions { BaseUrl = server.BaseUrl, ApiKey = "s3cret", MaxRetries = 0 });
        Assert.Single(await client.CompleteAsync(new CompletionRequest("x")));
    }

    [Fact]
    public async Task A_full_server_answers_429_with_retry_after_and_a_large_body_413()
    {
        using var model = new HeldModel();
        await using var server = await ModelServer.StartAsync(model, new ModelServerOptions { Port = 0, MaxQueuedRequests = 1, MaxBodyBytes = 4096 });
        var held = PostAsync(server.BaseUrl, """{"prompt": "first"}""");
        await model.Started.Task.WaitAsync(TimeSpan.FromSeconds(30));

        var (status, error, response) = await PostAsync(server.BaseUrl, """{"prompt": "second"}""");
        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
        Assert.Contains("--max-queued", error.GetProperty("message").GetString());

        model.Release.SetResult();
        Assert.Equal(HttpStatusCode.OK, (await held).Status);

        var big = JsonSerializer.Serialize(new { prompt = new string('x', 10_000) });
        var (tooBig, bigError, _) = await PostAsync(server.BaseUrl, big);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBig);
        Assert.Contains("--max-body-bytes", bigError.GetProperty("message").GetString());
    }

    [Fact]
    public async Task A_client_that_disconnects_cancels_its_generation()
    {
        using var model = new HeldModel();
        await using var server = await ModelServer.StartAsync(model, new ModelServerOptions { Port = 0 });
        // A client that gives up closes its connection mid-request.
        using (var client = new System.Net.Sockets.TcpClient())
        {
            await client.ConnectAsync(server.BaseUrl.Host, server.BaseUrl.Port);
            var body = """{"prompt": "x", "max_tokens": 100}""";
            var stream = client.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes(
                $"POST /v1/completions HTTP/1.1\r\nHost: {server.BaseUrl.Authority}\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\n\r\n{body}"));
            await model.Started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }
        await model.Cancelled.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }
}
