using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Reasoner.Models.Backends.OpenAi;
using Reasoner.Models.Scoring;

namespace Reasoner.Cli.Serving;

/// <summary>
/// <c>POST /v1/score</c> over an <see cref="IStepScoringModel"/>: the raw score at the end of every step of every candidate,
/// all candidates of a request in one batched, prefix-forked forward (<see cref="ScorerEngine"/>). Bad requests get 400
/// naming the field, scorer failures 500, both as OpenAI-style error JSON.
/// </summary>
sealed class ScoringEndpoint(IStepScoringModel scorer, string servedName, ILogger log)
{
    /// <summary>Steps are delimited as search and training write them when a request does not say.</summary>
    public const string DefaultDelimiter = "\n";

    public async Task HandleAsync(HttpContext http)
    {
        if (await ApiErrors.ReadAsync(http, CompletionsJsonContext.Default.ScoreRequestBody, Validate) is not { } body) return;
        var cancel = http.RequestAborted;

        IReadOnlyList<double[]> scores;
        try
        {
            scores = await scorer.ScoreStepsAsync(body.Prompt!, body.Candidates!, body.Delimiter ?? DefaultDelimiter, cancel);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            return; // The client has gone; nobody reads an answer.
        }
        catch (Exception e)
        {
            log.LogError(e, "scorer {Scorer} failed a score request", scorer.Id);
            await ApiErrors.WriteAsync(http, StatusCodes.Status500InternalServerError, "server_error", null, $"scorer failed: {e.Message}");
            return;
        }
        var response = new ScoreResponseBody
        {
            Id = $"score-{Guid.NewGuid():N}",
            Created = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            Model = servedName,
            Scores = scores,
        };
        await http.Response.WriteAsJsonAsync(response, CompletionsJsonContext.Default.ScoreResponseBody, cancellationToken: cancel);
    }

    static ScoreRequestBody Validate(ScoreRequestBody body)
    {
        if (string.IsNullOrEmpty(body.Prompt)) throw new BadRequestException("prompt", "field 'prompt' is required and must not be empty");
        if (body.Candidates is not { Count: > 0 } candidates) throw new BadRequestException("candidates", "field 'candidates' is required: a list of candidates, each a list of steps");
        for (int i = 0; i < candidates.Count; i++)
        {
            if (candidates[i] is null) throw new BadRequestException("candidates", $"field 'candidates': candidate {i} is null, not a list of steps");
            if (candidates[i].Any(s => s is null)) throw new BadRequestException("candidates", $"field 'candidates': candidate {i} holds a null step");
        }
        return body;
    }
}
