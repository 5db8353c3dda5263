#include "supervisor_swap.hpp"

#include <fstream>

namespace trueno::service {

std::vector<std::string> keep_supervisors_out_of_swap(const std::string& cgroup_root)
{
    std::vector<std::string> notes;
    for (const char* unit : {"init.scope", "system.slice/systemd-journald.service"}) {
        const std::string path = cgroup_root + "/" + unit + "/memory.swap.max";
        std::string value;
        {
            std::ifstream in(path);
            if (!(in >> value)) {
                notes.push_back(std::string(unit) + ": no " + path +
                                " (memory controller off?): its pages may go to swap, and a restart of "
                                "trueno-zramd could wait for them");
                continue;
            }
        }
        if (value == "0")
            continue;
        std::ofstream out(path);
        if (out << "0\n" && out.flush())
            notes.push_back(std::string(unit) + ": memory.swap.max was " + value + ", set to 0 (it restarts or logs for "
                                                "trueno-zramd and must never wait on its swap)");
        else
            notes.push_back(std::string(unit) + ": memory.swap.max is " + value + " and cannot be set to 0");
    }
    return notes;
}

} // namespace trueno::service
