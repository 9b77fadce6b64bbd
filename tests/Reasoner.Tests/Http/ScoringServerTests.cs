using System.Net;
using System.Text;
using System.Text.Json;
using Reasoner.Cli;
using Reasoner.Cli.Serving;
using Reasoner.Core.Problems;
using Reasoner.Models;
using Reasoner.Models.Backends;
using Reasoner.Models.Checkpoints;
using Reasoner.Models.Scoring;
using Reasoner.Search;
using Reasoner.Tests.Models;
using Reasoner.Tests.Search;

namespace Reasoner.Tests.Http;

/// <summary>A step scorer served over POST /v1/score (serve-model --scorer) and read back by the scoring client.</summary>
public sealed class ScoringServerTests
{
    const string Prompt = "Question: What is 12 + 35?\n";
    static readonly IReadOnlyList<string>[] Candidates = [["12 + 35 = 47.", "The answer is 47."], ["12 + 35 = 46."], ["1 + 1 = 2.", "2 + 2 = 4.", "The answer is 4."]];

    static ScorerEngine TinyScorer(bool readsBarePrompt = true)
    {
        using var policy = TinyModels.Create(TinyModels.Config(vocabSize: TinyModels.ArithmeticTokenizer.VocabSize), seed: 11);
        return new ScorerEngine(CausalLanguageModel.ScorerFrom(policy), TinyModels.ArithmeticTokenizer, "tiny-verifier", ownsModel: true) { ReadsBarePrompt = readsBarePrompt };
    }

    static void AssertClose(IReadOnlyList<double> expected, IReadOnlyList<double> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++) Assert.True(Math.Abs(expected[i] - actual[i]) < 1e-5, $"score {i}: {expected[i]} vs {actual[i]}");
    }

    static OpenAiCompletionsOptions At(Uri url, string? model = null) => new() { BaseUrl = url, Model = model, MaxRetries = 0 };

    static async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(Uri server, string path, string json)
    {
        using var http = new HttpClient();
        using var response = await http.PostAsync(new Uri(server, path), new StringContent(json, Encoding.UTF8, "application/json"));
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    [Fact]
    public async Task ServedScoresAreTheEnginesAndTheClientLearnsWhichPromptTheScorerReads()
    {
        using var engine = TinyScorer();
        await using var server = await ModelServer.StartAsync(null, engine, new ModelServerOptions { Port = 0, ServedModelName = "plv" });
        using var client = await ScoringClient.ConnectAsync(At(server.BaseUrl));

        var served = await client.ScoreStepsAsync(Prompt, Candidates, "\n");
        var local = await engine.ScoreStepsAsync(Prompt, Candidates, "\n");

        Assert.True(client.ReadsBarePrompt);
        Assert.Equal($"plv@{server.BaseUrl.ToString().TrimEnd('/')}", client.Id);
        Assert.Equal(local.Select(s => s.Length), served.Select(s => s.Length));
        // JSON carries doubles exactly (shortest round-trip form); what differs is libtorch's float rounding between two forwards
        // when parallel tests change its thread count meanwhile.
        for (int c = 0; c < local.Count; c++) AssertClose(local[c], served[c]);
    }

    [Fact]
    public async Task SearchsVerifierScoresTheSameOverTheServerAsInProcess()
    {
        using var engine = TinyScorer(readsBarePrompt: false);
        await using var server = await ModelServer.StartAsync(null, engine, new ModelServerOptions { Port = 0 });
        using var client = await ScoringClient.ConnectAsync(At(server.BaseUrl));
        var problem = new Problem("p1", "arith", "What is 12 + 35?", "47", AnswerKind.Number);
        IReadOnlyList<string>[] prefixes = [["12 + 35 = 47."], ["12 + 35 = 46."], ["12 + 35 = 47.", "The answer is 47."], []];

        var remote = await new ScorerVerifier(client, SearchKit.PromptFiles).ScoreAsync(problem, prefixes);
        var local = await new ScorerVerifier(engine, SearchKit.PromptFiles).ScoreAsync(problem, prefixes);

        AssertClose([.. local], [.. remote]);
        Assert.All(remote.Take(3), s => Assert.InRange(s, 0, 1));
    }

    [Theory]
    [InlineData("{\"candidates\": [[\"a\"]]}", "prompt")]
    [InlineData("{\"prompt\": \"Q\"}", "candidates")]
    [InlineData("{\"prompt\": \"Q\", \"candidates\": []}", "candidates")]
    [InlineData("{\"prompt\": \"Q\", \"candidates\": [[\"a\", null]]}", "candidates")]
    [InlineData("{\"prompt\": \"Q\", \"candidates\": [\"a\"]}", "candidates")]
    [InlineData("{\"prompt\": 3, \"candidates\": [[\"a\"]]}", "prompt")]
    public async Task ABadScoreRequestIs400NamingTheField(string body, string field)
    {
        using var engine = TinyScorer();
        await using var server = await ModelServer.StartAsync(null, engine, new ModelServerOptions { Port = 0 });

        var (status, answer) = await PostAsync(server.BaseUrl, "/v1/score", body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(field, answer.GetProperty("error").GetProperty("param").GetString());
        Assert.Equal("invalid_request_error", answer.GetProperty("error").GetProperty("type").GetString());
    }

    [Fact]
    public async Task EachEndpointTheServerDoesNotServeSaysWhatItServes()
    {
        using var engine = TinyScorer();
        await using (var scorerOnly = await ModelServer.StartAsync(null, engine, new ModelServerOptions { Port = 0, ServedModelName = "plv" }))
        {
            var (status, answer) = await PostAsync(scorerOnly.BaseUrl, "/v1/completions", "{\"prompt\": \"Q\"}");
            Assert.Equal(HttpStatusCode.NotFound, status);
            Assert.Contains("serves the step scorer plv only", answer.GetProperty("error").GetProperty("message").GetString());
        }

        var policy = new ScriptedLanguageModel();
        await using var modelOnly = await ModelServer.StartAsync(policy, new ModelServerOptions { Port = 0, ServedModelName = "policy" });
        var (scoreStatus, scoreAnswer) = await PostAsync(modelOnly.BaseUrl, "/v1/score", "{\"prompt\": \"Q\", \"candidates\": [[\"a\"]]}");
        Assert.Equal(HttpStatusCode.NotFound, scoreStatus);
        Assert.Contains("--scorer", scoreAnswer.GetProperty("error").GetProperty("message").GetString());
        var refused = await Assert.ThrowsAsync<ArgumentException>(() => ScoringClient.ConnectAsync(At(modelOnly.BaseUrl)));
        Assert.Contains("serves no step scorer (it serves: policy)", refused.Message);
    }

    [Fact]
    public async Task AServerOfBothListsTwoCardsAndTheClientPicksTheScorer()
    {
        using var engine = TinyScorer();
        var policy = new ScriptedLanguageModel();
        await using var server = await ModelServer.StartAsync(policy, engine, new ModelServerOptions { Port = 0, ServedModelName = "policy" });
        using var http = new HttpClient();
        var models = JsonDocument.Parse(await http.GetStringAsync(new Uri(server.BaseUrl, "/v1/models"))).RootElement;

        var cards = models.GetProperty("data").EnumerateArray().ToArray();
        Assert.Equal(["policy", "tiny-verifier"], cards.Select(c => c.GetProperty("id").GetString()));
        Assert.False(cards[0].TryGetProperty("scorer", out _));
        Assert.True(cards[1].GetProperty("scorer").GetProperty("reads_bare_prompt").GetBoolean());
        using var client = await ScoringClient.ConnectAsync(At(server.BaseUrl));
        Assert.Equal(3, (await client.ScoreStepsAsync(Prompt, Candidates, "\n"))[2].Length);
        await Assert.ThrowsAsync<ArgumentException>(() => ScoringClient.ConnectAsync(At(server.BaseUrl, model: "policy")));
    }

    [Fact]
    public async Task ServeModelGivenAVerifierFolderServesItAloneAndAnHttpSpecOpensAClient()
    {
        using var dir = new TestData.TempDirectory();
        using (var policy = TinyModels.Create(TinyModels.Config(vocabSize: TinyModels.ArithmeticTokenizer.VocabSize), seed: 11))
        using (var scorer = CausalLanguageModel.ScorerFrom(policy))
            CheckpointWriter.Save(scorer, TinyModels.ArithmeticTokenizer, dir.Path);
        new ModelPromptSettings { Prompt = Core.Prompts.PromptLibrary.SolveBare }.Save(dir.Path);
        var port = ScriptedHttpServer.FreePort();
        using var stop = new CancellationTokenSource();
        var run = ReasonerApp.RunAsync(["serve-model", "--model", dir.Path, "--port", $"{port}"], new StringWriter(), new StringWriter(), cancel: stop.Token);
        var url = new Uri($"http://127.0.0.1:{port}");

        await ScriptedHttpServer.WaitUntilHealthyAsync(url, run);
        using var opened = StepScoringModels.Open($"http://127.0.0.1:{port}");
        var served = await opened.ScoreStepsAsync(Prompt, Candidates, "\n");
        var (completionsStatus, _) = await PostAsync(url, "/v1/completions", "{\"prompt\": \"Q\"}");
        await stop.CancelAsync();
        Assert.Equal(0, await run.WaitAsync(TimeSpan.FromMinutes(2)));

        Assert.IsType<ScoringClient>(opened);
        Assert.True(opened.ReadsBarePrompt);
        Assert.Equal(HttpStatusCode.NotFound, completionsStatus);
        using var local = ScorerEngine.Load(dir.Path);
        var expected = await local.ScoreStepsAsync(Prompt, Candidates, "\n");
        for (int c = 0; c < expected.Count; c++) AssertClose(expected[c], served[c]);
    }
}
