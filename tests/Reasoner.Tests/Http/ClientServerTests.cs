using System.Net;
using System.Text;
using System.Text.Json;
using Reasoner.Cli.Serving;
using Reasoner.Models.Backends;

namespace Reasoner.Tests.Http;

/// <summary>The client against the real serve-model server (Kestrel on 127.0.0.1, a free port) over a scripted model.</summary>
public sealed class ClientServerTests
{
    /// <summary>A served fake model and a client pointed at it.</summary>
    sealed class Served : IAsyncDisposable
    {
        public required ModelServer Server { get; init; }
        public required OpenAiCompletionsClient Client { get; init; }

        public static async Task<Served> StartAsync(ILanguageModel model, int maxRetries = 0)
        {
            var server = await ModelServer.StartAsync(model, new ModelServerOptions { Port = 0, ServedModelName = "fake" });
            var client = new OpenAiCompletionsClient(new OpenAiCompletionsOptions
            {
                BaseUrl = server.BaseUrl,
                Model = "fake",
                Timeout = TimeSpan.FromSeconds(10),
                MaxRetries = maxRetries,
                RetryDelay = TimeSpan.FromMilliseconds(10),
                MaxRetryDelay = TimeSpan.FromMilliseconds(50),
            });
            return new Served { Server = server, Client = client };
        }

        public async Task<(HttpStatusCode Status, JsonElement Body)> PostRawAsync(string json)
        {
            using var http = new HttpClient();
            using var response = await http.PostAsync(new Uri(Server.BaseUrl, "/v1/completions"), new StringContent(json, Encoding.UTF8, "application/json"));
            return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
        }

        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await Server.DisposeAsync();
        }
    }

    static IReadOnlyList<double> LogProbsOf(string text) => [.. ScriptedLanguageModel.Tokenize(text).Select(ScriptedLanguageModel.LogProbOf)];

    [Fact]
    public async Task NSiblingsAreOneRequestWithN()
    {
        var fake = new ScriptedLanguageModel();
        await using var served = await Served.StartAsync(fake);

        var completions = await served.Client.CompleteAsync(new CompletionRequest("Q: 1+1?\n", N: 3) { Seed = 7 });

        Assert.Equal([" step 0 seed 7", " step 1 seed 7", " step 2 seed 7"], completions.Select(c => c.Text));
        var request = Assert.Single(fake.Requests);
        Assert.Equal(3, request.N);
    }

    [Fact]
    public async Task SamplingSettingsReachTheModel()
    {
        var fake = new ScriptedLanguageModel();
        await using var served = await Served.StartAsync(fake);

        await served.Client.CompleteAsync(new CompletionRequest("Q: 2+2?\n", N: 2, MaxTokens: 33)
        {
            Stop = ["\n", "Step"],
            Temperature = 0.7,
            TopP = 0.9,
            Seed = 42,
        });

        var seen = Assert.Single(fake.Requests);
        Assert.Equal("Q: 2+2?\n", seen.Prompt);
        Assert.Equal(33, seen.MaxTokens);
        Assert.Equal(["\n", "Step"], seen.Stop);
        Assert.Equal(0.7, seen.Temperature);
        Assert.Equal(0.9, seen.TopP);
        Assert.Equal(42L, seen.Seed);
    }

    [Fact]
    public async Task CompletionsCarryTokenTextsAndLogProbs()
    {
        await using var served = await Served.StartAsync(new ScriptedLanguageModel { Script = (_, _) => (" 12 + 30 = 42", FinishReason.Stop) });

        var completion = Assert.Single(await served.Client.CompleteAsync(new CompletionRequest("Q") { Stop = ["\n"] }));

        Assert.Equal([" 12", " +", " 30", " =", " 42"], completion.TokenTexts);
        Assert.Equal(LogProbsOf(" 12 + 30 = 42"), completion.TokenLogProbs);
        Assert.Equal(-1.3, completion.LogProb, 9);
        Assert.Empty(completion.TokenIds); // token strings, not ids, unless the server spells tokens as ids
    }

    [Fact]
    public async Task TokenIdsComeBackWhenTheBackendKnowsOnlyIds()
    {
        await using var served = await Served.StartAsync(new ScriptedLanguageModel(reportTokenTexts: false) { Script = (_, _) => (" a bc", FinishReason.Stop) });

        var completion = Assert.Single(await served.Client.CompleteAsync(new CompletionRequest("Q")));

        Assert.Equal([ScriptedLanguageModel.IdOf(" a"), ScriptedLanguageModel.IdOf(" bc")], completion.TokenIds);
        Assert.Equal(LogProbsOf(" a bc"), completion.TokenLogProbs);
        Assert.Empty(completion.TokenTexts);
    }

    [Fact]
    public async Task FinishReasonsSurviveTheRoundTrip()
    {
        FinishReason[] finishes = [FinishReason.Stop, FinishReason.EndOfSequence, FinishReason.Length];
        await using var served = await Served.StartAsync(new ScriptedLanguageModel { Script = (_, i) => ($" s{i}", finishes[i]) });

        var completions = await served.Client.CompleteAsync(new CompletionRequest("Q", N: 3) { Stop = ["\n"] });

        Assert.Equal(finishes, completions.Select(c => c.Finish));
    }

    [Fact]
    public async Task ScoringSlicesEachContinuationOutOfTheEchoedText()
    {
        var fake = new ScriptedLanguageModel();
        await using var served = await Served.StartAsync(fake);
        const string prompt = "Q: 2+3?\nA:";

        var scored = await served.Client.ScoreAsync(prompt, [" 2 plus 3 is 5.", " 6", ""]);

        Assert.Equal([" 2 plus 3 is 5.", " 6", ""], scored.Select(s => s.Continuation));
        Assert.Equal([" 2", " plus", " 3", " is", " 5."], scored[0].TokenTexts);
        Assert.Equal(LogProbsOf(" 2 plus 3 is 5."), scored[0].TokenLogProbs);
        Assert.Equal(LogProbsOf(" 6"), scored[1].TokenLogProbs);
        Assert.Empty(scored[2].TokenLogProbs);
        // The server scored each whole text from the start: the standard echo, no extension fields.
        Assert.All(fake.ScoreCalls, call => Assert.Equal("", call.Prompt));
        Assert.Contains(fake.ScoreCalls, call => call.Continuations.Single() == prompt + " 2 plus 3 is 5.");
    }

    [Fact]
    public async Task ATokenMergedAcrossTheBoundaryBelongsToTheContinuation()
    {
        await using var served = await Served.StartAsync(new ScriptedLanguageModel());

        // "Q: ab" + "cd ef" tokenizes as "Q:", " abcd", " ef": " abcd" covers continuation text.
        var scored = Assert.Single(await served.Client.ScoreAsync("Q: ab", ["cd ef"]));

        Assert.Equal([" abcd", " ef"], scored.TokenTexts);
        Assert.Equal(LogProbsOf(" abcd ef"), scored.TokenLogProbs);
    }

    [Fact]
    public async Task EchoWithGenerationReturnsPromptThenCompletion()
    {
        await using var served = await Served.StartAsync(new ScriptedLanguageModel { Script = (_, _) => (" 5", FinishReason.EndOfSequence) });

        var (status, body) = await served.PostRawAsync("""{"prompt": "2 + 3 =", "max_tokens": 4, "echo": true, "logprobs": 0}""");

        Assert.Equal(HttpStatusCode.OK, status);
        var choice = body.GetProperty("choices")[0];
        Assert.Equal("2 + 3 = 5", choice.GetProperty("text").GetString());
        var logprobs = choice.GetProperty("logprobs");
        Assert.Equal(["2", " +", " 3", " =", " 5"], logprobs.GetProperty("tokens").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal([0, 1, 3, 5, 7], logprobs.GetProperty("text_offset").EnumerateArray().Select(t => t.GetInt32()));
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        Assert.Equal(JsonValueKind.Null, choice.GetProperty("stop_reason").ValueKind);
        Assert.Equal(4, body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
    }

    [Theory]
    [InlineData("""{"prompt": "x", "n": 0}""", "n")]
    [InlineData("""{"n": 1}""", "prompt")]
    [InlineData("""{"prompt": ["a", "b"]}""", "prompt")]
    [InlineData("""{"prompt": [1, 2, 3]}""", "prompt")]
    [InlineData("""{"prompt": "x", "max_tokens": "ten"}""", "max_tokens")]
    [InlineData("""{"prompt": "x", "max_tokens": 0}""", "max_tokens")]
    [InlineData("""{"prompt": "x", "stop": [1]}""", "stop")]
    [InlineData("""{"prompt": "x", "top_p": 0}""", "top_p")]
    [InlineData("""{"prompt": "x", "temperature": -1}""", "temperature")]
    [InlineData("""{"prompt": "x", "logprobs": -1}""", "logprobs")]
    public async Task ABadRequestIs400NamingTheField(string json, string field)
    {
        var fake = new ScriptedLanguageModel();
        await using var served = await Served.StartAsync(fake);

        var (status, body) = await served.PostRawAsync(json);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        var error = body.GetProperty("error");
        Assert.Equal(field, error.GetProperty("param").GetString());
        Assert.Contains($"'{field}'", error.GetProperty("message").GetString());
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal(400, error.GetProperty("code").GetInt32());
        Assert.Equal(0, fake.Calls);
    }

    [Fact]
    public async Task ABodyThatIsNotJsonIs400()
    {
        await using var served = await Served.StartAsync(new ScriptedLanguageModel());

        var (status, body) = await served.PostRawAsync("prompt=x");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("not a valid JSON object", body.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task TheClientReportsA400AtOnceWithTheServersMessage()
    {
        await using var served = await Served.StartAsync(new ScriptedLanguageModel(), maxRetries: 3);

        var e = await Assert.ThrowsAsync<LanguageModelServerException>(() => served.Client.CompleteAsync(new CompletionRequest("Q", N: 0)));

        Assert.Equal(400, e.StatusCode);
        Assert.Equal(1, e.Attempts);
        Assert.Contains("field 'n' must be at least 1", e.Message);
        Assert.Contains(served.Client.CompletionsUrl.ToString(), e.Message);
    }

    [Fact]
    public async Task ABackendThatAlwaysFailsIs500AndTheClientGivesUpAfterItsRetries()
    {
        var fake = new ScriptedLanguageModel { Failure = new InvalidOperationException("weights on fire") };
        await using var served = await Served.StartAsync(fake, maxRetries: 2);

        var e = await Assert.ThrowsAsync<LanguageModelServerException>(() => served.Client.CompleteAsync(new CompletionRequest("Q")));

        Assert.Equal(500, e.StatusCode);
        Assert.Equal(3, e.Attempts);
        Assert.Equal(3, fake.Calls);
        Assert.Equal("backend failed: weights on fire", e.ServerMessage);
        Assert.Contains("failed with 500 Internal Server Error after 3 attempts: backend failed: weights on fire", e.Message);
    }

    [Fact]
    public async Task ModelsAndHealthAnswer()
    {
        await using var served = await Served.StartAsync(new ScriptedLanguageModel());
        using var http = new HttpClient { BaseAddress = served.Server.BaseUrl };

        var models = JsonDocument.Parse(await http.GetStringAsync("/v1/models")).RootElement;
        var health = JsonDocument.Parse(await http.GetStringAsync("/health")).RootElement;

        Assert.Equal("list", models.GetProperty("object").GetString());
        Assert.Equal("fake", models.GetProperty("data")[0].GetProperty("id").GetString());
        Assert.Equal("ok", health.GetProperty("status").GetString());
        Assert.Equal("fake@" + served.Server.BaseUrl.ToString().TrimEnd('/'), served.Client.ModelId);
    }
}
