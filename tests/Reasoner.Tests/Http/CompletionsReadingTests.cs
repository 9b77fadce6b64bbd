using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Reasoner.Models.Backends;
using Reasoner.Models.Backends.OpenAi;

namespace Reasoner.Tests.Http;

/// <summary>How the client reads other servers' dialects: vLLM's stop_reason and BOS-shifted offsets, llama.cpp's logprobs, error bodies.</summary>
public sealed class CompletionsReadingTests
{
    static CompletionChoiceBody Choice(string json) => JsonSerializer.Deserialize(
        $$"""{"choices": [{{json}}]}""", CompletionsJsonContext.Default.CompletionsResponseBody)!.Choices[0];

    [Theory]
    [InlineData("""{"finish_reason": "length"}""", " x", true, FinishReason.Length)]
    [InlineData("""{"finish_reason": "stop", "stop_reason": null}""", " x", true, FinishReason.EndOfSequence)]
    [InlineData("""{"finish_reason": "stop", "stop_reason": "\n"}""", " x", true, FinishReason.Stop)]
    [InlineData("""{"finish_reason": "stop", "stop_reason": 151645}""", " x", true, FinishReason.Stop)]
    [InlineData("""{"finish_reason": "stop"}""", " x", true, FinishReason.Stop)]
    [InlineData("""{"finish_reason": "stop"}""", " x", false, FinishReason.EndOfSequence)]
    [InlineData("""{"finish_reason": "stop"}""", "<|im_end|>", true, FinishReason.EndOfSequence)]
    [InlineData("""{"finish_reason": "stop"}""", "</s>", true, FinishReason.EndOfSequence)]
    [InlineData("""{"finish_reason": "stop"}""", "", true, FinishReason.EndOfSequence)]
    [InlineData("""{"finish_reason": "abort"}""", " x", true, FinishReason.Length)]
    public void FinishReasonMapping(string choiceJson, string lastToken, bool stopStringsRequested, FinishReason expected)
    {
        var tokens = new TokenRun([" a", lastToken], [], [-1, -1], null);

        Assert.Equal(expected, CompletionsReading.Finish(Choice(choiceJson), tokens, stopStringsRequested));
    }

    [Fact]
    public void EchoOffsetsShiftedByABosTokenAreRebasedOnTheTextsEnd()
    {
        // As vLLM answers echo + max_tokens 1 for "Q: 2 + 3 =" + " 5": "<s>" counts 3 characters in text_offset,
        // and one generated token follows the echoed ones.
        string[] tokens = ["<s>", "Q:", " 2", " +", " 3", " =", " 5", "\n"];
        int[] offsets = [0, 3, 5, 7, 9, 11, 13, 15];
        double?[] logprobs = [null, -1, -2, -3, -4, -5, -6, -7];

        var continuation = CompletionsReading.EchoedContinuation(new TokenRun(tokens, [], logprobs, offsets), echoedTokens: 7, "Q: 2 + 3 = 5", " 5".Length);

        Assert.Equal([" 5"], continuation.Texts);
        Assert.Equal([-6.0], continuation.LogProbValues);
    }

    [Fact]
    public void WithoutUsageTheEchoedTokensAreThoseInsideTheText()
    {
        string[] tokens = ["Q:", " 2", " 5", " extra"];
        int[] offsets = [0, 2, 4, 6];

        var continuation = CompletionsReading.EchoedContinuation(new TokenRun(tokens, [], [-1, -2, -3, -4], offsets), echoedTokens: null, "Q: 2 5", " 2 5".Length);

        Assert.Equal([" 2", " 5"], continuation.Texts);
    }

    [Fact]
    public void TheFirstTokenOfATextHasNoLogProbAndCountsAsZero()
    {
        var continuation = CompletionsReading.EchoedContinuation(new TokenRun(["a", " b"], [], [null, -2], [0, 1]), echoedTokens: 2, "a b", "a b".Length);

        Assert.Equal([0.0, -2.0], continuation.LogProbValues);
    }

    [Fact]
    public void AnEchoWithoutOffsetsIsAClearError()
    {
        var e = Assert.Throws<InvalidDataException>(() => CompletionsReading.EchoedContinuation(new TokenRun(["a"], [], [-1], null), 1, "a", 1));

        Assert.Contains("text_offset", e.Message);
    }

    [Fact]
    public void LlamaCppLogProbsGiveIdsTextsAndValues()
    {
        var choice = Choice("""
            {"text": "Hi!", "finish_reason": "stop", "logprobs": {"content": [
              {"id": 5, "token": "Hi", "bytes": [72, 105], "logprob": -0.5, "top_logprobs": []},
              {"id": 6, "token": "!", "bytes": [33], "logprob": -0.25, "top_logprobs": []}]}}
            """);

        var tokens = TokenRun.Of(choice.Logprobs);

        Assert.Equal([5, 6], tokens.Ids);
        Assert.Equal(["Hi", "!"], tokens.Texts);
        Assert.Equal([-0.5, -0.25], tokens.LogProbValues);
    }

    [Fact]
    public void TokensSpelledAsIdsGiveIds()
    {
        var choice = Choice("""{"logprobs": {"tokens": ["token_id:12", "token_id:7"], "token_logprobs": [-1.0, -2.0], "text_offset": [0, 11]}}""");

        var tokens = TokenRun.Of(choice.Logprobs);

        Assert.Equal([12, 7], tokens.Ids);
        Assert.Empty(tokens.Texts);
        Assert.Null(tokens.Offsets);
    }

    [Theory]
    [InlineData("""{"error": {"message": "max_tokens must be at least 1", "type": "BadRequestError", "code": 400}}""", "max_tokens must be at least 1")]
    [InlineData("""{"error": "model not loaded"}""", "model not loaded")]
    [InlineData("""{"detail": "Not Found"}""", "Not Found")]
    [InlineData("<html><body>Bad Gateway</body></html>", "<html><body>Bad Gateway</body></html>")]
    public void TheServersOwnMessageIsFoundInItsErrorBody(string body, string expected)
    {
        Assert.Equal(expected, CompletionsReading.ServerMessage(body));
    }

    [Fact]
    public async Task ScoringAgainstAServerThatRefusesZeroMaxTokensSwitchesToOne()
    {
        // vLLM's dialect: max_tokens 0 is refused; echo counts a BOS token in text_offset; one token is generated.
        await using var server = await ScriptedHttpServer.StartAsync(async (http, _) =>
        {
            var request = (await JsonDocument.ParseAsync(http.Request.Body)).RootElement;
            if (request.GetProperty("max_tokens").GetInt32() == 0)
            {
                await ScriptedHttpServer.ErrorAsync(http, 400, "max_tokens must be at least 1, got 0.");
                return;
            }
            var whole = request.GetProperty("prompt").GetString()!;
            string[] tokens = ["<s>", .. ScriptedLanguageModel.Tokenize(whole), "\n"];
            var answer = new JsonObject
            {
                ["id"] = "cmpl-1",
                ["object"] = "text_completion",
                ["model"] = "m",
                ["choices"] = new JsonArray(new JsonObject
                {
                    ["index"] = 0,
                    ["text"] = whole + "\n",
                    ["finish_reason"] = "length",
                    ["stop_reason"] = null,
                    ["logprobs"] = new JsonObject
                    {
                        ["tokens"] = new JsonArray([.. tokens.Select(t => JsonValue.Create(t))]),
                        ["token_logprobs"] = new JsonArray([.. tokens.Select((t, i) => i == 0 ? null : JsonValue.Create(-0.1 * t.Length))]),
                        ["text_offset"] = new JsonArray([.. tokens.Select((_, i) => JsonValue.Create(tokens.Take(i).Sum(t => t.Length)))]),
                    },
                }),
                ["usage"] = new JsonObject { ["prompt_tokens"] = tokens.Length - 1, ["completion_tokens"] = 1, ["total_tokens"] = tokens.Length },
            };
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync(answer.ToJsonString());
        });
        using var client = new OpenAiCompletionsClient(new OpenAiCompletionsOptions { BaseUrl = server.BaseUrl, Model = "m", MaxRetries = 0 });

        var first = await client.ScoreAsync("Q: 2 + 3 =", [" 5", " 6 or 7"]);
        var callsForFirst = server.Calls;
        var second = Assert.Single(await client.ScoreAsync("Q: 2 + 3 =", [" 5"]));

        Assert.Equal([" 5"], first[0].TokenTexts);
        Assert.Equal([-0.2], first[0].TokenLogProbs);
        Assert.Equal([" 6", " or", " 7"], first[1].TokenTexts);
        Assert.Equal(4, callsForFirst); // each continuation: refused with 0, answered with 1
        Assert.Equal(5, server.Calls); // then 1 straight away
        Assert.Equal(first[0].TokenLogProbs, second.TokenLogProbs);
    }
}
