using System.Text.Json;
using Reasoner.Models.Backends;
using Reasoner.Models.Backends.OpenAi;

namespace Reasoner.Models.Scoring;

/// <summary>
/// A step scorer behind <c>serve-model</c>'s <c>POST /v1/score</c>, so that search workers on many machines share one
/// verifier or value model. One request per call: the server runs the shared prompt once and all candidates in one
/// batched forward, as <see cref="ScorerEngine"/> does in process. Retries, timeouts and the in-flight limit follow
/// <see cref="OpenAiCompletionsOptions"/>.
/// </summary>
public sealed class ScoringClient : IStepScoringModel
{
    readonly ServerConnection _server;
    readonly string? _model;

    ScoringClient(ServerConnection server, string? model, string id, bool readsBarePrompt)
    {
        _server = server;
        _model = model;
        Id = id;
        ReadsBarePrompt = readsBarePrompt;
        ScoreUrl = server.Url("/v1/score");
    }

    public string Id { get; }

    public bool ReadsBarePrompt { get; }

    public Uri ScoreUrl { get; }

    /// <summary>
    /// Asks the server's <c>GET /v1/models</c> for its scorer (the one named <see cref="OpenAiCompletionsOptions.Model"/>, else
    /// the only one), and what prompt it reads.
    /// </summary>
    public static async Task<ScoringClient> ConnectAsync(OpenAiCompletionsOptions options, CancellationToken cancel = default)
    {
        var server = new ServerConnection(options);
        try
        {
            var url = server.Url("/v1/models");
            var (text, attempts) = await server.SendAsync(url, null, cancel);
            ModelListBody? list;
            try { list = JsonSerializer.Deserialize(text, CompletionsJsonContext.Default.ModelListBody); }
            catch (JsonException e) { throw new LanguageModelServerException($"GET {url}: unexpected answer: not a model list ({e.Message})", url, 200, null, attempts); }
            var scorers = (list?.Data ?? []).Where(c => c.Scorer is not null && (options.Model is null || c.Id == options.Model)).ToArray();
            if (scorers.Length != 1)
            {
                var served = string.Join(", ", (list?.Data ?? []).Select(c => c.Scorer is null ? c.Id : $"{c.Id} (scorer)"));
                throw new ArgumentException(scorers.Length == 0
                    ? $"{server.BaseUrl} serves no step scorer{(options.Model is null ? "" : $" named '{options.Model}'")} (it serves: {(served.Length == 0 ? "nothing" : served)}); start it with serve-model --scorer DIR"
                    : $"{server.BaseUrl} serves {scorers.Length} scorers ({served}): name one as MODEL@{server.BaseUrl}");
            }
            return new ScoringClient(server, options.Model, $"{scorers[0].Id}@{server.BaseUrl}", scorers[0].Scorer!.ReadsBarePrompt);
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    public async Task<IReadOnlyList<double[]>> ScoreStepsAsync(string prompt, IReadOnlyList<IReadOnlyList<string>> candidates, string delimiter,
        CancellationToken cancel = default)
    {
        var payload = JsonSerializer.SerializeToUtf8Bytes(new ScoreRequestBody { Model = _model, Prompt = prompt, Candidates = candidates, Delimiter = delimiter },
            CompletionsJsonContext.Default.ScoreRequestBody);
        var (text, attempts) = await _server.SendAsync(ScoreUrl, payload, cancel);
        ScoreResponseBody? body;
        try { body = JsonSerializer.Deserialize(text, CompletionsJsonContext.Default.ScoreResponseBody); }
        catch (JsonException e) { throw Malformed($"not a score response ({e.Message})", attempts); }
        var scores = body?.Scores ?? throw Malformed("null", attempts);
        if (scores.Count != candidates.Count) throw Malformed($"{scores.Count} score lists for {candidates.Count} candidates", attempts);
        for (int i = 0; i < scores.Count; i++)
            if (scores[i].Count != candidates[i].Count) throw Malformed($"{scores[i].Count} scores for candidate {i}'s {candidates[i].Count} steps", attempts);
        return [.. scores.Select(s => s.ToArray())];
    }

    LanguageModelServerException Malformed(string what, int attempts) => new($"POST {ScoreUrl}: unexpected answer: {what}", ScoreUrl, 200, null, attempts);

    public void Dispose() => _server.Dispose();
}
