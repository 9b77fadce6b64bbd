namespace Reasoner.Training.Batching;

/// <summary>
/// One token sequence to learn from: a prompt the model is conditioned on and a target it is trained to
/// produce, stored as one array. The loss covers <c>Tokens[PromptLength..]</c> only.
/// </summary>
public sealed record TrainingSequence
{
    public TrainingSequence(int[] tokens, int promptLength)
    {
        // Position 0 has no context to predict it from, so at least one prompt token is needed.
        if (promptLength < 1 || promptLength >= tokens.Length)
            throw new ArgumentException($"prompt length must be in [1, {tokens.Length - 1}] for a sequence of {tokens.Length} tokens, got {promptLength}");
        Tokens = tokens;
        PromptLength = promptLength;
    }

    public int[] Tokens { get; }

    public int PromptLength { get; }

    public int Length => Tokens.Length;

    public int TargetLength => Tokens.Length - PromptLength;

    /// <summary>
    /// How much each of its target tokens counts in a weighted loss (<see cref="TokenLogProbs.NegativeLogLikelihoodPerTarget"/>):
    /// pretraining's <c>--solution-weight</c> trains a task more slowly without changing the stream of sequences. 1 elsewhere.
    /// </summary>
    public float LossWeight
    {
        get;
        init => field = value > 0 && float.IsFinite(value) ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "a loss weight must be a positive number");
    } = 1f;
}
