namespace Reasoner.Models.Backends.OpenAi;

// The step-scoring endpoint, Reasoner's own addition beside the OpenAI-compatible API (there is no standard one):
// POST /v1/score scores every step of several candidate continuations of one prompt with a scorer model (a Tree-PLV
// verifier, an OREO value head). Same JSON conventions as the completions API: snake_case, OpenAI-style errors.

/// <summary>The body of <c>POST /v1/score</c>.</summary>
public sealed record ScoreRequestBody
{
    public string? Model { get; init; }

    /// <summary>What every candidate continues: the solve prompt and the steps the candidates share.</summary>
    public string? Prompt { get; init; }

    /// <summary>Each candidate's steps, in order; a score comes back for each.</summary>
    public IReadOnlyList<IReadOnlyList<string>>? Candidates { get; init; }

    /// <summary>Appended to every step before it is encoded, as training read it; a newline when left out.</summary>
    public string? Delimiter { get; init; }
}

public sealed record ScoreResponseBody
{
    public string Id { get; init; } = "";
    public string Object { get; init; } = "step_scores";
    public long Created { get; init; }
    public string Model { get; init; } = "";

    /// <summary>Per candidate, the head's raw output at the end of each step (σ of it is the probability the step leads to a right answer).</summary>
    public IReadOnlyList<IReadOnlyList<double>> Scores { get; init; } = [];
}

/// <summary>What a client needs to know to build the prompts a served scorer was trained on.</summary>
public sealed record ScorerCardBody
{
    /// <summary>The scorer reads the bare solve prompt (<c>prompts/solve-bare.txt</c>) instead of the few-shot one.</summary>
    public bool ReadsBarePrompt { get; init; }
}
