using Reasoner.Core.Problems;

namespace Reasoner.Core.Judging;

/// <summary>What a judge knows after some steps of one solution: the quantities or facts the sound steps derived.</summary>
public abstract record SolutionState;

/// <summary>
/// Gold step labels for one problem, without a model. A judge is pure: it reads a step against a state and returns
/// the label and the state after it, so a tree's branches are judged from their shared prefix's state.
/// </summary>
public interface IStepJudge
{
    /// <summary>The state before the first step.</summary>
    SolutionState Start { get; }

    (StepJudgement Judgement, SolutionState After) Judge(SolutionState before, string step);
}

public static class StepJudges
{
    /// <summary>The families whose steps can be judged: the built-in generated tasks.</summary>
    public static bool Supports(string family) => family is Tasks.BuiltinTasks.Arith or Tasks.BuiltinTasks.Logic;

    /// <summary>The judge for a problem of a built-in task; an <see cref="ArgumentException"/> for any other.</summary>
    public static IStepJudge For(Problem problem) => problem.Family switch
    {
        Tasks.BuiltinTasks.Arith => new ArithStepJudge(problem),
        Tasks.BuiltinTasks.Logic => new LogicStepJudge(problem),
        _ => throw new ArgumentException($"problem {problem.Id}: no step judge for family '{problem.Family}' (only the built-in tasks arith and logic have gold step labels)"),
    };

    /// <summary>Each step of a solution judged in the context of those before it.</summary>
    public static IReadOnlyList<StepJudgement> JudgeSolution(this IStepJudge judge, IEnumerable<string> steps)
    {
        var state = judge.Start;
        var judgements = new List<StepJudgement>();
        foreach (var step in steps)
        {
            (var judgement, state) = judge.Judge(state, step);
            judgements.Add(judgement);
        }
        return judgements;
    }
}
