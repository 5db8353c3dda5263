#include "expression.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <numbers>
#include <optional>
#include <vector>

namespace trueno::generator {
namespace {

// Errors travel as exceptions inside the parser only; evaluate() turns them into an Error.
struct ParseError {
    std::string message;
};

class Parser {
public:
    Parser(std::string_view text, const Variables& variables) : text_(text), variables_(variables) {}

    double parse_all()
    {
        skip_space();
        if (at_end()) fail("empty expression");
        double value = sum();
        skip_space();
        if (!at_end()) fail(std::string("unexpected '") + text_[pos_] + "'");
        if (!std::isfinite(value)) fail("result is not a finite number");
        return value;
    }

private:
    std::string_view text_;
    const Variables& variables_;
    std::size_t pos_ = 0;
    int depth_ = 0;

    [[noreturn]] void fail(const std::string& what) const
    {
        throw ParseError{what + " at column " + std::to_string(pos_ + 1)};
    }

    bool at_end() const { return pos_ >= text_.size(); }

    void skip_space()
    {
        while (!at_end() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    }

    bool accept(char c)
    {
        skip_space();
        if (!at_end() && text_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }

    void expect(char c)
    {
        if (!accept(c)) fail(std::string("expected '") + c + "'");
    }

    double sum()
    {
        double value = product();
        for (;;) {
            if (accept('+')) value += product();
            else if (accept('-')) value -= product();
            else return value;
        }
    }

    double product()
    {
        double value = unary();
        for (;;) {
            if (accept('*')) {
                value *= unary();
            } else if (accept('/')) {
                double divisor = unary();
                if (divisor == 0) fail("division by zero");
                value /= divisor;
            } else if (accept('%')) {
                double divisor = unary();
                if (divisor == 0) fail("modulo by zero");
                value = std::fmod(value, divisor);
            } else {
                return value;
            }
        }
    }

    double unary()
    {
        // Bounded recursion: a hostile config of 100k '(' must not overflow the stack at boot.
        if (++depth_ > 200) fail("expression nested too deeply");
        double value;
        if (accept('-')) value = -unary();
        else if (accept('+')) value = unary();
        else value = power();
        --depth_;
        return value;
    }

    double power()
    {
        double base = atom();
        if (accept('^')) return std::pow(base, unary());
        return base;
    }

    double atom()
    {
        skip_space();
        if (at_end()) fail("expected a number, a name or '('");
        char c = text_[pos_];
        if (c == '(') {
            ++pos_;
            double value = sum();
            expect(')');
            return value;
        }
        if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') return number();
        if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') return name();
        fail(std::string("unexpected '") + c + "'");
    }

    double number()
    {
        std::size_t start = pos_;
        while (!at_end() && (std::isdigit(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '.'))
            ++pos_;
        std::string digits(text_.substr(start, pos_ - start));
        if (digits == "." || std::count(digits.begin(), digits.end(), '.') > 1) {
            pos_ = start;
            fail("malformed number '" + digits + "'");
        }
        // strtod, not stod: a 400-digit number must be an error message, not an exception.
        double value = std::strtod(digits.c_str(), nullptr);
        if (!std::isfinite(value)) {
            pos_ = start;
            fail("number '" + digits + "' is too large");
        }
        // A suffix converts to MiB; a letter run that is not a suffix is an error, not a name.
        if (!at_end() && std::isalpha(static_cast<unsigned char>(text_[pos_]))) {
            std::size_t suffix_start = pos_;
            while (!at_end() && std::isalpha(static_cast<unsigned char>(text_[pos_]))) ++pos_;
            std::string suffix(text_.substr(suffix_start, pos_ - suffix_start));
            if (suffix == "K" || suffix == "k" || suffix == "KiB") value /= 1024.0;
            else if (suffix == "M" || suffix == "m" || suffix == "MiB") value *= 1.0;
            else if (suffix == "G" || suffix == "g" || suffix == "GiB") value *= 1024.0;
            else if (suffix == "T" || suffix == "t" || suffix == "TiB") value *= 1024.0 * 1024.0;
            else {
                pos_ = suffix_start;
                fail("unknown size suffix '" + suffix + "' (use K, M, G or T)");
            }
        }
        return value;
    }

    double name()
    {
        std::size_t start = pos_;
        while (!at_end() && (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_'))
            ++pos_;
        std::string id(text_.substr(start, pos_ - start));
        skip_space();
        if (!at_end() && text_[pos_] == '(') {
            ++pos_;
            std::vector<double> args{sum()};
            while (accept(',')) args.push_back(sum());
            expect(')');
            return call(id, args, start);
        }
        if (auto it = variables_.find(id); it != variables_.end()) return it->second;
        if (id == "e") return std::numbers::e;
        if (id == "pi") return std::numbers::pi;
        pos_ = start;
        fail("unknown name '" + id + "'");
    }

    double call(const std::string& id, const std::vector<double>& args, std::size_t start)
    {
        auto one = [&]() {
            if (args.size() != 1) {
                pos_ = start;
                fail(id + "() takes one argument");
            }
            return args[0];
        };
        if (id == "min" || id == "max") {
            double value = args[0];
            for (double a : args) value = id == "min" ? std::min(value, a) : std::max(value, a);
            return value;
        }
        if (id == "abs") return std::fabs(one());
        if (id == "floor") return std::floor(one());
        if (id == "ceil") return std::ceil(one());
        if (id == "round") return std::round(one());
        if (id == "int") return std::trunc(one());
        pos_ = start;
        fail("unknown function '" + id + "' (min, max, abs, floor, ceil, round, int)");
    }
};

} // namespace

Result<double> evaluate(std::string_view text, const Variables& variables)
{
    try {
        return Parser(text, variables).parse_all();
    } catch (const ParseError& e) {
        return make_error(EINVAL, e.message);
    }
}

} // namespace trueno::generator
