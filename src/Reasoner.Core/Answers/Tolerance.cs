using System.Numerics;

namespace Reasoner.Core.Answers;

/// <summary>Numeric closeness used by every comparison, so Number and Math answers agree on what "equal" means.</summary>
internal static class Tolerance
{
    private const double Relative = 1e-6;

    // Only absorbs floating-point noise around zero (sin(pi) = 1.2e-16); it must stay far below genuine small
    // answers such as 0.0000672, which a looser floor would confuse with 0.0000673.
    private const double AbsoluteFloor = 1e-11;

    public static bool Close(double a, double b)
    {
        if (a == b) return true;
        if (!double.IsFinite(a) || !double.IsFinite(b)) return false;
        double diff = Math.Abs(a - b);
        return diff <= AbsoluteFloor || diff <= Relative * Math.Max(Math.Abs(a), Math.Abs(b));
    }

    public static bool Close(Complex a, Complex b)
    {
        if (a == b) return true;
        if (!IsFinite(a) || !IsFinite(b)) return false;
        double diff = Complex.Abs(a - b);
        return diff <= AbsoluteFloor || diff <= Relative * Math.Max(Complex.Abs(a), Complex.Abs(b));
    }

    public static bool IsFinite(Complex z) => double.IsFinite(z.Real) && double.IsFinite(z.Imaginary);
}
