namespace Reasoner.Core.Tasks;

/// <summary>Which side of a built-in task's train/test partition a problem belongs to.</summary>
public enum Split
{
    Train,
    Test,
}
