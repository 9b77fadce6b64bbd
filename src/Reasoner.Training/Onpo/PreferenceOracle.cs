namespace Reasoner.Training.Onpo;

/// <summary>
/// P(y ≻ y′ | x): the preference ONPO's game is played on. It need not come from a reward, and need not be transitive.
/// </summary>
public interface IPreferenceOracle
{
    /// <summary>The probability that solution <paramref name="first"/> is preferred to <paramref name="second"/>, in [0, 1].</summary>
    double Prefer(OracleSolution first, OracleSolution second);
}

/// <summary>A solution as an oracle sees it: the problem, the solution's text and, where checked, whether its answer is right.</summary>
public sealed record OracleSolution(string ProblemText, string Text, bool? Correct);

/// <summary>The outcome oracle: a correct solution beats a wrong or unchecked one; otherwise a tie, a fair coin.</summary>
public sealed class OutcomeOracle : IPreferenceOracle
{
    public double Prefer(OracleSolution first, OracleSolution second) =>
        (first.Correct == true, second.Correct == true) switch
        {
            (true, false) => 1,
            (false, true) => 0,
            _ => 0.5,
        };
}
