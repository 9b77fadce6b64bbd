using Reasoner.Core.Answers;
using Reasoner.Core.Problems;
using Reasoner.Core.Prompts;
using Reasoner.Models.Backends;

namespace Reasoner.Search;

/// <summary>The world's settings: which solve prompt opens every solution, and the limits on a solution.</summary>
public sealed record StepWorldSettings
{
    public SolvePromptStyle SolvePrompt { get; init; } = SolvePromptStyle.FewShot;

    /// <summary>
    /// Most steps in a solution: a step at this depth that does not end the solution is cut off there
    /// (<see cref="Core.Trees.TreeNode.Truncated"/>). The built-in tasks need at most 7 lines (6 steps and the answer).
    /// </summary>
    public int DepthLimit { get; init; } = 12;

    /// <summary>
    /// Most tokens in a solution's steps, prompt not counted. MCTS-DPO caps prompt and solution together at
    /// max_length 512 (world_model.is_terminal); ours leaves the prompt out so that few-shot and bare prompts
    /// allow solutions of the same length.
    /// </summary>
    public int MaxSolutionTokens { get; init; } = 512;

    internal void Record(SettingsRecorder recorder) => recorder
        .Add(SolvePromptStyles.Setting, SolvePromptStyles.Name(SolvePrompt))
        .Add("world.depthLimit", DepthLimit)
        .Add("world.maxSolutionTokens", MaxSolutionTokens);
}

/// <summary>How a new step leaves the solution: still open, finished, or cut off by a limit.</summary>
public enum StepEnd
{
    Continues,

    /// <summary>The step states the final answer with an explicit marker ("The answer is 12.").</summary>
    Answered,

    /// <summary>The model ended the solution (end-of-sequence) without a marked answer.</summary>
    EndOfSequence,

    /// <summary>The step ran into the per-step token limit before its delimiter.</summary>
    StepTokenLimit,

    /// <summary>The step reached <see cref="StepWorldSettings.DepthLimit"/> without ending the solution.</summary>
    DepthLimit,

    /// <summary>The solution reached <see cref="StepWorldSettings.MaxSolutionTokens"/> without ending.</summary>
    SolutionTokenLimit,
}

public static class StepEnds
{
    public static bool IsTerminal(this StepEnd end) => end != StepEnd.Continues;

    /// <summary>Cut off by a limit rather than finished by the model.</summary>
    public static bool IsTruncated(this StepEnd end) =>
        end is StepEnd.StepTokenLimit or StepEnd.DepthLimit or StepEnd.SolutionTokenLimit;
}

/// <summary>
/// The step-level search space. A state is the solve prompt followed by the steps so far, each closed by the
/// family's step delimiter; an action is the next step (the text up to the delimiter); a state is terminal when
/// its last step gives the final answer, the model ended the solution, or a limit cut it off.
/// </summary>
public sealed class StepWorld(PromptLibrary prompts, StepWorldSettings settings)
{
    public StepWorldSettings Settings { get; } = settings;

    /// <summary>The state at the root: the rendered solve prompt, which ends where the first step begins.</summary>
    public string InitialState(Problem problem) => prompts.RenderSolve(problem, Settings.SolvePrompt == SolvePromptStyle.Bare);

    /// <summary>
    /// Where a step leaves the solution. A step cut by the token limit counts as cut off even if it seems to carry
    /// an answer, since the answer itself may be the part that was cut.
    /// </summary>
    /// <param name="depth">The new step's depth (1 for a first step).</param>
    /// <param name="solutionTokens">Tokens of all steps up to and including the new one.</param>
    public StepEnd Classify(Problem problem, string step, FinishReason finish, int depth, int solutionTokens)
    {
        if (finish == FinishReason.Length) return StepEnd.StepTokenLimit;
        if (AnswerExtractor.ExtractMarked(step, problem.Kind) is not null) return StepEnd.Answered;
        if (finish == FinishReason.EndOfSequence) return StepEnd.EndOfSequence;
        if (depth >= Settings.DepthLimit) return StepEnd.DepthLimit;
        if (solutionTokens >= Settings.MaxSolutionTokens) return StepEnd.SolutionTokenLimit;
        return StepEnd.Continues;
    }
}
