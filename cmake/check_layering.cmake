# cmake -DSOURCE_DIR=... -DSTAGES=collectors,config,... [-DSIDE=opener:collectors] -P check_layering.cmake
# Fails when a file of one stage includes a header of a stage later in STAGES: data flows one way,
# so a stage may use only the stages before it (CMakeLists.txt says what each stage is). The one
# exception is daemon/main.cc, the program's entry point, which dispatches to the daemon or to a
# tool. SIDE lists folders beside the flow with the stages each may use (FOLDER:STAGE+STAGE,...):
# the opener, a separate privileged program, may use collectors/ alone.
string(REPLACE "," ";" STAGES "${STAGES}")
string(REPLACE "," ";" SIDE "${SIDE}")
set(violations "")

# Appends to `violations` every include in FOLDER's files of a header of the FORBIDDEN stages.
function(check_folder folder why)
  set(forbidden ${ARGN})
  if(NOT forbidden)
    return()
  endif()
  string(JOIN "|" pattern ${forbidden})
  file(GLOB files ${SOURCE_DIR}/${folder}/*.h ${SOURCE_DIR}/${folder}/*.cc)
  list(REMOVE_ITEM files ${SOURCE_DIR}/daemon/main.cc)
  foreach(file ${files})
    file(STRINGS ${file} lines REGEX "^[ \t]*#[ \t]*include[ \t]+\"(${pattern})/")
    foreach(line ${lines})
      file(RELATIVE_PATH rel ${SOURCE_DIR} ${file})
      string(STRIP "${line}" line)
      string(APPEND violations "  ${rel}: ${line} (${why})\n")
    endforeach()
  endforeach()
  set(violations "${violations}" PARENT_SCOPE)
endfunction()

# Each stage: none of the stages after it.
set(later ${STAGES})
foreach(stage ${STAGES})
  list(REMOVE_AT later 0)
  check_folder(${stage} "a later stage" ${later})
endforeach()

# Each side folder: none but its own allowed stages.
foreach(entry ${SIDE})
  string(REPLACE ":" ";" parts "${entry}")
  list(GET parts 0 folder)
  list(GET parts 1 allowed)
  string(REPLACE "+" ";" allowed "${allowed}")
  set(forbidden ${STAGES})
  list(REMOVE_ITEM forbidden ${allowed})
  check_folder(${folder} "${folder}/ may use only: ${allowed}" ${forbidden})
endforeach()

if(violations)
  message(FATAL_ERROR "An include crosses the layering (stages in order: ${STAGES}):\n${violations}")
endif()
