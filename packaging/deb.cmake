# The Debian package prometheus-workload-exporter, built by `cpack -G DEB` in the build directory
# (tests/packaging/deb_test.sh builds, lints, installs and purges it). Included from the top
# CMakeLists.txt; every path below is where Debian 12 expects it:
#   /usr/bin/workload_exporter                         the daemon (install(TARGETS) at the top)
#   /lib/systemd/system/workload_exporter.service      the unit (bookworm keeps units in /lib)
#   /usr/libexec/workload_exporter/workload_exporter_opener   the opener (install(TARGETS) at the
#                                                      top), started by
#   /lib/systemd/system/workload_exporter-opener.{socket,service}   (README.md, "Privileges")
#   /usr/lib/sysusers.d/workload_exporter.conf         the system user
#   /usr/lib/tmpfiles.d/workload_exporter.conf         /etc/workload_exporter, 0750 root:group
#   /etc/workload_exporter/config.yaml                 the default configuration, a conffile
#   /usr/share/prometheus-workload-exporter/           Grafana dashboards and provisioning,
#                                                      Prometheus rules (and their promtool tests)
#   /usr/share/doc/prometheus-workload-exporter/       copyright, changelog.Debian.gz, README.md
#   /usr/share/man/man1/workload_exporter.1.gz         the manual page
# Maintainer scripts: packaging/debian/{postinst,prerm,postrm}.

set(WE_DEB_NAME prometheus-workload-exporter)
set(WE_DEB_SHARE share/${WE_DEB_NAME})
set(WE_DEB_DOC share/doc/${WE_DEB_NAME})
set(WE_DEB_WORK ${CMAKE_BINARY_DIR}/packaging)

install(FILES ${CMAKE_SOURCE_DIR}/systemd/workload_exporter.service
              ${CMAKE_SOURCE_DIR}/systemd/workload_exporter-opener.socket
              ${CMAKE_SOURCE_DIR}/systemd/workload_exporter-opener.service
        DESTINATION /lib/systemd/system)
install(FILES ${CMAKE_SOURCE_DIR}/systemd/workload_exporter.sysusers
        DESTINATION lib/sysusers.d RENAME workload_exporter.conf)
install(FILES ${CMAKE_SOURCE_DIR}/systemd/workload_exporter.tmpfiles
        DESTINATION lib/tmpfiles.d RENAME workload_exporter.conf)

# The default configuration. `cmake --install` from source keeps a file already there (an
# administrator's edits survive a reinstall); into CPack's empty staging tree it always installs.
install(CODE "
  set(_we_conf \"\$ENV{DESTDIR}/etc/workload_exporter/config.yaml\")
  if(EXISTS \"\${_we_conf}\")
    message(STATUS \"Keeping existing: \${_we_conf}\")
  else()
    file(INSTALL DESTINATION /etc/workload_exporter TYPE FILE PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
         FILES \"${CMAKE_SOURCE_DIR}/config/workload_exporter.yml\" RENAME config.yaml)
  endif()")

install(DIRECTORY ${CMAKE_SOURCE_DIR}/packaging/grafana/ DESTINATION ${WE_DEB_SHARE}/grafana)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/prometheus/workload_exporter.rules.yml
              ${CMAKE_SOURCE_DIR}/packaging/prometheus/workload_exporter.rules.test.yml
        DESTINATION ${WE_DEB_SHARE}/prometheus)

# Debian's copyright file and a changelog whose top entry carries this very version, compressed
# as Policy 12.7 and lintian want it (gzip -9n: maximum compression, no name or timestamp).
set(WE_DEB_REVISION 1)
set(WE_DEB_VERSION ${PROJECT_VERSION}-${WE_DEB_REVISION})
set(WE_DEB_MAINTAINER "workload_exporter maintainers <maintainers@users.noreply.r-seed-9c0e3868.example>")
configure_file(${CMAKE_SOURCE_DIR}/packaging/debian/changelog.in ${WE_DEB_WORK}/changelog.Debian @ONLY)
find_program(WE_GZIP gzip REQUIRED)
add_custom_command(OUTPUT ${WE_DEB_WORK}/changelog.Debian.gz
                   COMMAND ${WE_GZIP} -9nc ${WE_DEB_WORK}/changelog.Debian > ${WE_DEB_WORK}/changelog.Debian.gz
                   DEPENDS ${WE_DEB_WORK}/changelog.Debian VERBATIM)
add_custom_command(OUTPUT ${WE_DEB_WORK}/workload_exporter.1.gz
                   COMMAND ${WE_GZIP} -9nc ${CMAKE_SOURCE_DIR}/packaging/debian/workload_exporter.1
                           > ${WE_DEB_WORK}/workload_exporter.1.gz
                   DEPENDS ${CMAKE_SOURCE_DIR}/packaging/debian/workload_exporter.1 VERBATIM)
add_custom_target(we_deb_docs ALL DEPENDS ${WE_DEB_WORK}/changelog.Debian.gz ${WE_DEB_WORK}/workload_exporter.1.gz)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/debian/copyright ${WE_DEB_WORK}/changelog.Debian.gz
              ${CMAKE_SOURCE_DIR}/README.md
        DESTINATION ${WE_DEB_DOC})
install(FILES ${WE_DEB_WORK}/workload_exporter.1.gz DESTINATION share/man/man1)
# Each override says why it is there (packaging/debian/lintian-overrides).
install(FILES ${CMAKE_SOURCE_DIR}/packaging/debian/lintian-overrides
        DESTINATION share/lintian/overrides RENAME ${WE_DEB_NAME})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ${WE_DEB_NAME})
set(CPACK_PACKAGE_VENDOR "workload_exporter")
set(CPACK_PACKAGE_CONTACT "${WE_DEB_MAINTAINER}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)  # lintian: unstripped-binary-or-object; the debug info stays in the build tree
set(CPACK_DEBIAN_PACKAGE_NAME ${WE_DEB_NAME})
set(CPACK_DEBIAN_PACKAGE_RELEASE ${WE_DEB_REVISION})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${WE_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# CPack indents every line after the summary by one space and writes an empty line as " .".
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "Prometheus exporter for containers and virtual machines
workload_exporter samples the CPU, memory, pressure, block I/O and network of
every container (Docker, containerd, CRI-O, Podman, LXC, systemd-nspawn) and
every virtual machine (QEMU processes, libvirt) on a host every second, from
the kernel's cgroup and proc files, and serves them to Prometheus with one
schema for all of them, including each workload's idle and peak CPU and
memory over sliding windows.

The package ships a hardened systemd unit running as its own system user,
Grafana dashboards and Prometheus recording and alerting rules.")
# Library dependencies from dpkg-shlibdeps; what the maintainer scripts run, by hand: adduser
# makes the user where systemd-sysusers is missing (and lintian wants it declared either way);
# procps has /bin/kill, the unit's ExecReload (a minimal Debian has no /bin/kill, and then
# `systemctl reload` fails: measured in the v2 host guest, tests/rigs/v2_host_test.sh).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, procps")
# libvirt is loaded at run time when libvirt.uri is set (the default), so shlibdeps does not see
# it: without it the daemon runs and finds VMs from their QEMU processes.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libvirt0")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "prometheus, libvirt-daemon-system")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/packaging/debian/conffiles
    ${CMAKE_SOURCE_DIR}/packaging/debian/postinst
    ${CMAKE_SOURCE_DIR}/packaging/debian/prerm
    ${CMAKE_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)  # scripts 0755, conffiles 0644
include(CPack)
