namespace Reasoner.Core.Tasks;

/// <summary>
/// One generated problem before it is placed in a split. <see cref="CanonicalContent"/> is what makes two
/// problems the same problem (for logic, the statements in any order); it decides the split and the id.
/// </summary>
internal sealed record GeneratedProblem(string Question, string CanonicalContent, string Answer, IReadOnlyList<string> Steps);

/// <summary>Draws problems of one task from a random stream.</summary>
internal interface IProblemGenerator
{
    GeneratedProblem Next(TaskRandom random);
}
